"""Proactive messages: each delivery recorded once and sent at most once, inside the learner's allowed times."""
