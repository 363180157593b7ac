"""Learning records for the company's LRS: what a learner does with the coach as xAPI 1.0.3 statements.

How a statement travels: `capture` turns the domain's own rows (a question logged, a lesson opened, a quiz
answered, a nudge sent...) into statements in the same database transaction, the outbox keeps them, and the sender
(run by the one dispatching worker) posts them in batches to the LRS through the `Lrs` port, with backoff and
`Retry-After`, and on a restart asks the LRS about what a crash left in flight before sending it again.
"""
