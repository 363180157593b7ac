"""The core's tables. Knowledge-base tables live in `knowledge/models.py` on the same metadata."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, ForeignKey, LargeBinary, String, Text
from sqlmodel import Field, SQLModel

from kernel.store import utcnow


class LearnerBase(SQLModel):
    display_name: str = ""
    # audience groups this learner belongs to; everyone is implied
    groups: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    role: str = ""
    team: str = ""
    timezone: str = "Europe/Amsterdam"
    language: str = "en"
    # e.g. {"lesson_minutes": 5, "time_of_day": "morning"}
    preferences: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    paused: bool = False


class Learner(LearnerBase, table=True):
    id: str = Field(primary_key=True, max_length=200)
    created_at: datetime = Field(default_factory=utcnow)


class LearnerPublic(LearnerBase):
    id: str


class NeedBase(SQLModel):
    """A learner's question as the basis of personalization: redacted, tagged, answered or not, rated later."""

    learner_id: str = Field(index=True, max_length=200)
    channel: str = Field(max_length=20)  # dm | channel | thread | web | cli
    platform: str = Field(max_length=20)  # web | cli | slack | teams
    question: str = Field(sa_column=Column(Text, nullable=False))  # personal data redacted
    topics: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # competency ids
    answered: bool
    confidence: float = 0.0  # the abstention model's probability that the content answers it
    sources: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # cited source ids
    # answered in part: what the question named that the quoted content does not mention ("electric cars")
    not_covered: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]"))
    feedback: str | None = Field(default=None, max_length=20)  # helpful | not_helpful
    feedback_note: str | None = Field(default=None, sa_column=Column(Text))  # what was missing (redacted)


class Need(NeedBase, table=True):
    id: str = Field(primary_key=True, max_length=32)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    feedback_at: datetime | None = None


class NeedPublic(NeedBase):
    id: str
    created_at: datetime


class ModelExchange(SQLModel, table=True):
    """One call to a language model, kept for evaluation: which prompt, which passages, what it cost, how it ended."""

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    template: str = Field(max_length=100)
    template_version: str = Field(max_length=20)
    model: str = Field(max_length=200)
    chunk_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    input_tokens: int = 0
    output_tokens: int = 0
    latency_ms: int = 0
    outcome: str = Field(max_length=20)  # answered | declined | malformed | unavailable | error


class SeenEvent(SQLModel, table=True):
    """A platform event already handled (a Slack event, a Teams activity) or a thread the coach takes part in; the
    primary key makes "first time?" one atomic insert that holds across processes and replicas."""

    key: str = Field(primary_key=True, max_length=250)
    seen_at: datetime = Field(default_factory=utcnow, index=True)
    # the inbox event that claimed it (coach/inbox.py): a replica that takes over that event may answer it still
    claimed_by: str | None = Field(default=None, max_length=120)


class InboxEvent(SQLModel, table=True):
    """A platform event the coach accepted (acknowledged) and still has to handle: written before the ack, so a
    replica that dies while answering leaves it here for another to take over when its lease runs out. Its payload
    (which holds what the learner wrote) is cleared once it is handled; the row stays a day to absorb redeliveries."""

    key: str = Field(primary_key=True, max_length=120)  # platform:event id
    platform: str = Field(max_length=20)
    payload: str = Field(default="", sa_column=Column(Text, nullable=False))
    request_id: str = Field(default="", max_length=40)  # the request id it came in with (the logs follow it)
    # what the handler has shown so far (e.g. the platform message an answer streams into), for whoever takes over
    progress: str = Field(default="", sa_column=Column(Text, nullable=False))
    state: str = Field(default="pending", max_length=12, index=True)  # pending | done | dropped
    owner: str = Field(default="", max_length=80)  # the process answering it
    lease_until: datetime | None = Field(default=None, index=True)
    attempts: int = 0
    received_at: datetime = Field(default_factory=utcnow, index=True)
    done_at: datetime | None = None


class ChatAddress(SQLModel, table=True):
    """Where the coach can reach someone later without being asked (nudges, lessons, private answers): a platform's
    conversation reference, kept as the connector gave it. Personal chats, and members met in a channel (from whose
    reference a personal chat can be opened), belong to a learner; channels to no one."""

    key: str = Field(primary_key=True, max_length=250)  # <platform>:<kind>:<learner id or channel id>
    platform: str = Field(max_length=20)
    kind: str = Field(max_length=20)  # personal | member | channel
    learner_id: str = Field(default="", index=True, max_length=200)
    reference: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow)


class Lesson(SQLModel, table=True):
    """A micro-lesson: one idea, one quiz question. Only `approved` lessons reach learners; drafts wait for L&D."""

    key: str = Field(primary_key=True, max_length=120)
    title: str = Field(max_length=200)
    body: str = Field(sa_column=Column(Text, nullable=False))
    competencies: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    audience: list[str] = Field(default_factory=lambda: ["everyone"], sa_column=Column(JSON, nullable=False))
    minutes: int = 3
    question: str = Field(sa_column=Column(Text, nullable=False))
    options: list[dict] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # {text, feedback}
    correct: int = 0  # index into options
    explanation: str = Field(default="", sa_column=Column(Text, nullable=False))
    sources: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="approved", max_length=20, index=True)  # approved | draft | rejected
    origin: str = Field(default="authored", max_length=20)  # authored | drafted
    updated_at: datetime = Field(default_factory=utcnow)


class LessonAttempt(SQLModel, table=True):
    """A learner's answer to a lesson's quiz question."""

    id: int | None = Field(default=None, primary_key=True)
    learner_id: str = Field(index=True, max_length=200)
    lesson_key: str = Field(index=True, max_length=120)
    chosen: int
    correct: bool
    at: datetime = Field(default_factory=utcnow, index=True)


class ReviewCard(SQLModel, table=True):
    """The spaced-repetition card of one learner and one lesson (FSRS's own dict) and when it is due."""

    learner_id: str = Field(primary_key=True, max_length=200)
    lesson_key: str = Field(primary_key=True, max_length=120)
    card: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    due: datetime = Field(index=True)
    last_review: datetime


class ReviewLogEntry(SQLModel, table=True):
    """FSRS's review log, kept so the scheduler's parameters can be optimised on this company's learners later."""

    id: int | None = Field(default=None, primary_key=True)
    learner_id: str = Field(index=True, max_length=200)
    lesson_key: str = Field(max_length=120)
    rating: int
    reviewed_at: datetime


class LessonOffer(SQLModel, table=True):
    """A lesson the coach suggested or sent to a learner, with its one-line reason; `started_at` once opened."""

    id: int | None = Field(default=None, primary_key=True)
    learner_id: str = Field(index=True, max_length=200)
    lesson_key: str = Field(max_length=120)
    reason: str = Field(default="", max_length=300)
    offered_at: datetime = Field(default_factory=utcnow, index=True)
    started_at: datetime | None = None


class TeamFocus(SQLModel, table=True):
    """The competencies a team's manager wants it to grow in now (learning aligned with business goals)."""

    team: str = Field(primary_key=True, max_length=120)
    competencies: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    set_by: str = Field(default="", max_length=200)
    updated_at: datetime = Field(default_factory=utcnow)


class TopicFlag(SQLModel, table=True):
    """A topic where learners get stuck, for L&D: no learner is named."""

    id: int | None = Field(default=None, primary_key=True)
    competency: str = Field(index=True, max_length=120)
    reason: str = Field(max_length=40)  # repeated_questions | repeated_wrong_answers
    at: datetime = Field(default_factory=utcnow, index=True)


class NudgeDelivery(SQLModel, table=True):
    """One proactive message to one learner, recorded before it is sent: the unique key (schedule, learner,
    occurrence) makes a retry after a crash a no-op, and the final state says what happened."""

    key: str = Field(primary_key=True, max_length=250)
    learner_id: str = Field(index=True, max_length=200)
    kind: str = Field(default="nudge", max_length=30)  # nudge | lesson | review | gap_closed | ...
    state: str = Field(default="sending", max_length=20, index=True)  # sending | sent | failed | skipped
    attempts: int = 0
    reason: str = Field(default="", max_length=300)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(default_factory=utcnow)


class NudgeSchedule(SQLModel, table=True):
    """A manager's nudge: a message and/or a lesson, to a team or named learners, once or on a recurrence."""

    id: str = Field(primary_key=True, max_length=32)
    owner: str = Field(index=True, max_length=200)  # who made it (a manager's learner id or e-mail)
    team: str = Field(default="", max_length=120)  # everyone whose profile has this team ...
    learners: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # ... or these people
    channel: str = Field(default="", max_length=250)  # ... or one post in a channel (`slack:T..:C..`, `teams:channel:..`)
    message: str = Field(default="", sa_column=Column(Text, nullable=False))
    lesson_key: str = Field(default="", max_length=120)
    recurrence: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))  # see coach/nudges/schedules.py
    timezone: str = Field(default="UTC", max_length=60)
    zone_mode: str = Field(default="schedule", max_length=20)  # schedule: its times in `timezone`; learner: in each's
    grace_s: int = 3600  # due while the worker was down: still sent on start within this long, else skipped
    paused: bool = False
    created_at: datetime = Field(default_factory=utcnow)


class NudgeOccurrence(SQLModel, table=True):
    """One firing of a schedule: recorded when it starts, so a crash halfway resumes it instead of losing the rest."""

    id: str = Field(primary_key=True, max_length=120)  # <schedule id>:<planned time, UTC ISO>
    schedule_id: str = Field(index=True, max_length=32)
    planned_at: datetime
    zone: str = Field(default="", max_length=60)  # in zone_mode learner: the recipients of this time zone only
    state: str = Field(default="running", max_length=20, index=True)  # running | done | missed
    recipients: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class Account(SQLModel, table=True):
    """Someone who may open the web admin (see coach/accounts.py for the roles). A manager account manages the teams
    listed here plus the team of the learner it is linked to, so the same person sees the same teams in chat and on
    the pages; an empty password hash means single sign-on only."""

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(unique=True, index=True, max_length=254)  # lower case
    role: str = Field(max_length=20)  # ld-admin | manager | viewer
    password_hash: str = Field(default="", max_length=255)  # argon2id, with its parameters
    teams: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    learner_id: str = Field(default="", max_length=200)  # the same person in chat (Learner.id), if any
    created_at: datetime = Field(default_factory=utcnow)
    last_sign_in_at: datetime | None = None


class AdminSession(SQLModel, table=True):
    """A signed-in browser. The cookie carries a random id whose hash is the key here, so signing out, removing the
    account or changing its password ends the session on the server, not only in the browser."""

    id: str = Field(primary_key=True, max_length=64)  # sha256 hex of the id in the cookie
    account_id: int = Field(index=True)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime = Field(index=True)
    address: str = Field(default="", max_length=64)


class ApiToken(SQLModel, table=True):
    """A bearer token for scripts and checks (`coach tokens create`): only the sha256 of the secret is kept. A
    manager token acts for a manager account, whose teams it may see."""

    id: str = Field(primary_key=True, max_length=16)  # public, shown in `coach tokens list`
    name: str = Field(default="", max_length=100)
    role: str = Field(max_length=20)
    account_id: int | None = Field(default=None, index=True)
    secret_hash: str = Field(unique=True, index=True, max_length=64)
    created_by: str = Field(default="", max_length=254)
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None


class AuditEntry(SQLModel, table=True):
    """Who did what to what, when and from where, in the web admin and the account commands. Failed sign-ins are
    counted from here too, so the sign-in limit holds across app replicas. Nothing personal beyond account e-mails:
    callers pass redacted text."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str = Field(index=True, max_length=254)  # an account e-mail, "token:<name>" or "cli:<os user>"
    action: str = Field(index=True, max_length=60)  # e.g. sign-in, sign-in-failed, user-added, token-revoked
    target: str = Field(default="", max_length=300)
    address: str = Field(default="", index=True, max_length=64)  # client address, "cli" for the command line
    detail: str = Field(default="", max_length=500)


class GapQuestion(SQLModel, table=True):
    """A question the coach could not answer (a need it abstained on), as the content-gap report sees it: embedded
    once (the vector is kept, so clustering and re-asking never embed a question twice), the cluster it joined, and
    when and by which source it was answered later. Deleted with its need ("forget me")."""

    need_id: str = Field(sa_column=Column(String(32), ForeignKey("need.id", ondelete="CASCADE"), primary_key=True))
    asked_at: datetime = Field(index=True)  # the need's created_at: clusters are built in this order
    model: str = Field(max_length=200)  # the embedding model of `vector`
    vector: bytes = Field(sa_column=Column(LargeBinary, nullable=False))  # float32, L2-normalised
    cluster_id: str = Field(default="", index=True, max_length=16)  # "" until clustered
    leader: bool = False  # it founded its cluster (see coach/gaps/clustering.py)
    closed_at: datetime | None = Field(default=None, index=True)
    closed_by: str = Field(default="", max_length=32)  # the source whose content answered it
    closed_by_title: str = Field(default="", max_length=500)  # kept: the source may be removed later


class GapNotice(SQLModel, table=True):
    """The answer owed to someone whose question new content answered, kept until the worker may deliver it (their
    pause, hours and daily cap); `key` is its key in the delivery ledger, so it is sent exactly once. Deleted with
    the need it answers ("forget me")."""

    key: str = Field(primary_key=True, max_length=250)
    need_id: str = Field(sa_column=Column(String(32), ForeignKey("need.id", ondelete="CASCADE"), index=True,
                                          nullable=False))
    learner_id: str = Field(index=True, max_length=200)
    cluster_id: str = Field(max_length=16)
    question: str = Field(sa_column=Column(Text, nullable=False))  # redacted, as logged
    asked_at: datetime
    reply: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))  # text, mode, citations
    created_at: datetime = Field(default_factory=utcnow, index=True)


class PostedAnswer(SQLModel, table=True):
    """A chat message that carries an answer, and the need it answers: Teams' own thumbs up / down name only the
    message rated, possibly days and app processes later. Deleted with its need ("forget me")."""

    key: str = Field(primary_key=True, max_length=64)  # sha256 of platform, conversation and message id
    need_id: str = Field(sa_column=Column(String(32), ForeignKey("need.id", ondelete="CASCADE"), index=True,
                                          nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class ConversationTurn(SQLModel, table=True):
    """One question and the opening of its answer in a conversation that has no history of its own to read back
    (a Teams chat), so a follow-up is understood by whichever app process receives it. The question is its need's
    (redacted); the row goes with its need ("forget me")."""

    id: int | None = Field(default=None, primary_key=True)
    conversation: str = Field(index=True, max_length=64)  # sha256 of platform and conversation id
    need_id: str = Field(sa_column=Column(String(32), ForeignKey("need.id", ondelete="CASCADE"), index=True,
                                          nullable=False))
    reply_opening: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow)


class WebExchange(SQLModel, table=True):
    """One turn of a learner's conversation in the built-in web chat, so it survives a reload: what they said (a
    question, redacted as the needs log keeps it, or the label of the button they pressed) and the reply as it was
    shown. Personal data: in the learner's export, deleted by "forget me", the last few dozen kept."""

    id: int | None = Field(default=None, primary_key=True)
    learner_id: str = Field(index=True, max_length=200)
    kind: str = Field(default="ask", max_length=10)  # ask | action
    said: str = Field(default="", sa_column=Column(Text, nullable=False))
    reply: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    used: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # button kinds pressed
    created_at: datetime = Field(default_factory=utcnow)


class XapiStatement(SQLModel, table=True):
    """One xAPI statement in the outbox to the company's LRS, written in the same transaction as what it records
    (coach/xapi/capture.py), so nothing is recorded without its statement or sent without being recorded. Its `id`
    and `timestamp` are set once here: a resend is an identical duplicate, which the LRS accepts as a no-op."""

    id: str = Field(primary_key=True, max_length=36)  # the statement's own id (a UUID)
    learner_id: str = Field(default="", index=True, max_length=200)  # "" for the coach's own (voiding) statements
    verb: str = Field(max_length=40)  # the verb's short name: asked, rated, launched, completed, answered, ...
    ref: str = Field(default="", index=True, max_length=250)  # what it is about here: a need id, a nudge key ...
    statement: dict = Field(sa_column=Column(JSON, nullable=False))
    state: str = Field(default="queued", max_length=20, index=True)  # queued | sending | sent | failed
    attempts: int = 0
    next_at: datetime = Field(default_factory=utcnow, index=True)  # not sent before this (backoff, Retry-After)
    lease_until: datetime | None = None  # while `sending`: another sender takes it over only after this
    posted_at: datetime | None = None  # when it was last posted (what the LRS stored since then is looked up)
    reason: str = Field(default="", max_length=300)  # why the last attempt failed
    created_at: datetime = Field(default_factory=utcnow, index=True)
    sent_at: datetime | None = None


class DeploymentSecret(SQLModel, table=True):
    """A random key made once per deployment and shared by every replica (e.g. the key of the xAPI pseudonyms)."""

    name: str = Field(primary_key=True, max_length=60)
    value: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow)
