"""Every setting of the coach, read once from the environment and `.env` (see `.env.example`)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # where the embedded defaults keep their files
    data_dir: Path = Field(default=Path("./data"), alias="COACH_DATA_DIR")
    # SQLite under data_dir when empty; e.g. postgresql+psycopg://user:pass@host:5432/coach
    database_url: SecretStr = Field(default=SecretStr(""), alias="DATABASE_URL")

    # app server
    host: str = Field(default="127.0.0.1", alias="COACH_HOST")
    port: int = Field(default=3978, alias="COACH_PORT")
    load_samples: bool = Field(default=True, alias="COACH_LOAD_SAMPLES")
    # `coach worker` serves /healthz, /readyz and /metrics on this port (0: none)
    worker_port: int = Field(default=3979, ge=0, alias="COACH_WORKER_PORT")
    # log lines: text for a terminal, json (one object per line, with the request id) for a log pipeline
    log_format: Literal["text", "json"] = Field(default="text", alias="COACH_LOG_FORMAT")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(default="INFO", alias="COACH_LOG_LEVEL")

    # knowledge base
    max_upload_mb: float = Field(default=50, alias="COACH_MAX_UPLOAD_MB")
    chunk_size: int = Field(default=900, alias="COACH_CHUNK_SIZE")
    chunk_overlap: int = Field(default=120, alias="COACH_CHUNK_OVERLAP")
    chroma_host: str = Field(default="", alias="CHROMA_HOST")
    chroma_port: int = Field(default=8000, alias="CHROMA_PORT")
    chroma_ssl: bool = Field(default=False, alias="CHROMA_SSL")

    # embeddings: the packaged local model, or an OpenAI-compatible /v1/embeddings endpoint
    embeddings_base_url: str = Field(default="", alias="EMBEDDINGS_BASE_URL")
    embeddings_api_key: SecretStr = Field(default=SecretStr(""), alias="EMBEDDINGS_API_KEY")
    embeddings_model: str = Field(default="text-embedding-3-small", alias="EMBEDDINGS_MODEL")
    embedding_threads: int = Field(default=0, alias="COACH_EMBEDDING_THREADS")  # 0: all cores
    # the packaged local model: e5 (multilingual-e5-small: Dutch and English questions find content in either
    # language) or minilm (English only, about 6x cheaper to index)
    embedding_model: Literal["e5", "minilm"] = Field(default="e5", alias="COACH_EMBEDDING_MODEL")

    # answers written by a language model on any OpenAI-compatible endpoint (empty: extractive answers)
    llm_base_url: str = Field(default="", alias="LLM_BASE_URL")
    llm_api_key: SecretStr = Field(default=SecretStr(""), alias="LLM_API_KEY")
    llm_model: str = Field(default="gpt-4o-mini", alias="LLM_MODEL")
    # one wall-clock deadline per question: waiting for a slot, connecting, the whole stream, retries; then quoted
    llm_budget_s: float = Field(default=20.0, gt=0, alias="LLM_BUDGET_S")
    llm_max_tokens: int = Field(default=400, ge=16, alias="LLM_MAX_TOKENS")  # the answer's token limit
    llm_concurrency: int = Field(default=4, ge=1, alias="LLM_CONCURRENCY")  # model calls at once (1: a one-slot server)
    company_name: str = Field(default="the company", alias="COACH_COMPANY_NAME")
    # who learners are pointed to when they ask for a person (a channel, a mailbox, a team)
    human_contact: str = Field(default="", alias="COACH_HUMAN_CONTACT")  # "": "the L&D team", in the learner's language

    # proactive messages (nudges, lessons, reviews) a learner gets per day at most, whoever scheduled them
    nudges_per_day: int = Field(default=3, alias="COACH_NUDGES_PER_DAY")
    # `coach serve` also dispatches nudges unless another worker does; false: only `coach worker` does
    run_worker: bool = Field(default=True, alias="COACH_RUN_WORKER")
    # seconds between a dispatcher's looks for schedules added, paused or deleted elsewhere (and a standing-by
    # worker's tries to take over the dispatch lock)
    worker_sync_s: float = Field(default=20.0, gt=0, alias="COACH_WORKER_SYNC_S")
    # managers and reports never see a group smaller than this many people
    privacy_min_group: int = Field(default=5, alias="COACH_PRIVACY_MIN_GROUP")

    # content gaps: how alike (cosine, 0-1) two unanswered questions must be to share a cluster (unset: the value
    # calibrated for the embedding model, coach/thresholds.json); and how recent a question must be for its asker to
    # be told when new content answers it (older ones close silently)
    gap_similarity: float | None = Field(default=None, ge=0.0, le=1.0, alias="COACH_GAP_SIMILARITY")
    gap_notify_days: int = Field(default=60, ge=0, alias="COACH_GAP_NOTIFY_DAYS")

    # learning records to the company's LRS as xAPI 1.0.3 statements, through a persistent outbox; off when the
    # endpoint is unset. The endpoint is the LRS's xAPI base (statements go to <endpoint>/statements); Basic auth.
    xapi_endpoint: str = Field(default="", alias="XAPI_ENDPOINT")
    xapi_username: str = Field(default="", alias="XAPI_USERNAME")
    xapi_password: SecretStr = Field(default=SecretStr(""), alias="XAPI_PASSWORD")
    # the base IRI of the coach's activity ids (lessons, questions, sources); empty: <COACH_PUBLIC_URL>/xapi
    xapi_activity_base: str = Field(default="", alias="XAPI_ACTIVITY_BASE")
    # the actor is the chat account under a stable pseudonym (never an e-mail); to send some learners' e-mail on
    # purpose (an LRS that matches people by mbox), a CSV file of `learner id,e-mail` lines maps them
    xapi_actor_map: Path | None = Field(default=None, alias="XAPI_ACTOR_MAP")
    # include the (redacted) question text in "asked" statements; off: only whether it was answered and its topics
    xapi_include_question: bool = Field(default=False, alias="XAPI_INCLUDE_QUESTION")
    # statements per POST to the LRS
    xapi_batch: int = Field(default=200, ge=1, le=1000, alias="XAPI_BATCH")

    # the impact report's estimate of time saved: minutes one question answered (and rated helpful) saves a learner
    minutes_per_question: float = Field(default=10.0, ge=0, alias="COACH_MINUTES_PER_QUESTION")

    # an accepted Slack event or Teams message is held by the replica answering it for this long, renewed while it
    # answers; when that replica dies, another takes it over once the lease has run out (coach/inbox.py)
    inbox_lease_s: float = Field(default=15.0, ge=1, alias="COACH_INBOX_LEASE_S")

    # questions a learner may ask per minute, in any chat (0: no limit)
    questions_per_minute: int = Field(default=8, alias="COACH_QUESTIONS_PER_MINUTE")
    # questions the anonymous web chat takes per minute from one client address (an IPv6 one by its /64), however
    # many learner cookies it sends (0: no limit); behind a proxy, the address it forwards counts only when the proxy's
    # own address is in uvicorn's FORWARDED_ALLOW_IPS (default: 127.0.0.1 and ::1)
    web_questions_per_minute_per_address: int = Field(default=30, ge=0,
                                                      alias="COACH_WEB_QUESTIONS_PER_MINUTE_PER_ADDRESS")

    # the competency framework questions are tagged with (empty: the sample in examples/competencies.yaml)
    competencies_file: Path | None = Field(default=None, alias="COACH_COMPETENCIES_FILE")

    # Slack: a bot token for one workspace, or client id + secret for the OAuth install flow (many workspaces);
    # HTTP events at /slack/events need the signing secret; an app-level token (xapp-) switches to Socket Mode
    slack_bot_token: SecretStr = Field(default=SecretStr(""), alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr = Field(default=SecretStr(""), alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr = Field(default=SecretStr(""), alias="SLACK_APP_TOKEN")
    slack_client_id: str = Field(default="", alias="SLACK_CLIENT_ID")
    slack_client_secret: SecretStr = Field(default=SecretStr(""), alias="SLACK_CLIENT_SECRET")
    slack_api_url: str = Field(default="https://slack.com/api/", alias="SLACK_API_URL")
    slack_update_interval_s: float = Field(default=1.0, alias="SLACK_UPDATE_INTERVAL_S")  # streamed edits, at most
    # answers in threads (every DM, every channel answer) stream with Slack's chat.startStream; false: a placeholder
    # edited as the answer grows (Slack falls back to that by itself where it will not stream)
    slack_native_streaming: bool = Field(default=True, alias="SLACK_NATIVE_STREAMING")
    slack_sends_per_second: float = Field(default=5.0, alias="SLACK_SENDS_PER_SECOND")  # proactive DMs, per workspace

    # Teams (Bot Framework): activities at /api/messages; with an empty app id it runs unauthenticated (local use with
    # the Bot Framework Emulator). Single-tenant bots also set the tenant id.
    microsoft_app_id: str = Field(default="", alias="MICROSOFT_APP_ID")
    microsoft_app_password: SecretStr = Field(default=SecretStr(""), alias="MICROSOFT_APP_PASSWORD")
    microsoft_app_tenant_id: str = Field(default="", alias="MICROSOFT_APP_TENANT_ID")
    # where incoming tokens' signing keys are published and who issues them (defaults: the public Azure cloud;
    # set for sovereign clouds, or for tests against a local OpenID provider)
    teams_openid_metadata_url: str = Field(default="", alias="TEAMS_OPENID_METADATA_URL")
    teams_token_issuer: str = Field(default="", alias="TEAMS_TOKEN_ISSUER")
    teams_update_interval_s: float = Field(default=1.0, alias="TEAMS_UPDATE_INTERVAL_S")  # streamed updates, at most
    # the app's public https address, for the Teams app package (valid domains) and links
    public_url: str = Field(default="", alias="COACH_PUBLIC_URL")
    # the privacy notice and terms of use the Teams app links to (its details page, the admin center); empty: the
    # pages the app serves itself at <COACH_PUBLIC_URL>/privacy and /terms
    privacy_url: str = Field(default="", alias="COACH_PRIVACY_URL")
    terms_url: str = Field(default="", alias="COACH_TERMS_URL")

    # retrieval
    retrieval_candidates: int = Field(default=40, alias="COACH_RETRIEVAL_CANDIDATES")
    retrieval_dense_weight: float = Field(default=0.8, alias="COACH_RETRIEVAL_DENSE_WEIGHT")
    retrieval_fusion: Literal["convex", "rrf"] = Field(default="convex", alias="COACH_RETRIEVAL_FUSION")

    # web admin (/admin): signs its session cookie; empty: a random key made once and kept in data_dir (set it when
    # several app servers share the sign-ins)
    admin_secret_key: SecretStr = Field(default=SecretStr(""), alias="ADMIN_SECRET_KEY")
    admin_session_hours: float = Field(default=8, alias="ADMIN_SESSION_HOURS")  # then sign in again, whatever happens
    admin_idle_minutes: float = Field(default=60, alias="ADMIN_IDLE_MINUTES")  # a session unused this long ends
    # failed sign-ins allowed per account and per client address within the window, then "try again in N minutes"
    admin_login_failures: int = Field(default=5, alias="ADMIN_LOGIN_FAILURES")
    admin_login_window_minutes: float = Field(default=15, alias="ADMIN_LOGIN_WINDOW_MINUTES")
    # single sign-on by OpenID Connect (e.g. https://login.microsoftonline.com/<tenant id>/v2.0); empty: passwords only
    admin_oidc_issuer: str = Field(default="", alias="ADMIN_OIDC_ISSUER")
    admin_oidc_client_id: str = Field(default="", alias="ADMIN_OIDC_CLIENT_ID")
    admin_oidc_client_secret: SecretStr = Field(default=SecretStr(""), alias="ADMIN_OIDC_CLIENT_SECRET")
    admin_oidc_label: str = Field(default="Sign in with single sign-on", alias="ADMIN_OIDC_LABEL")

    @property
    def resolved_database_url(self) -> str:
        if self.database_url.get_secret_value():
            return self.database_url.get_secret_value()
        return f"sqlite:///{(self.data_dir / 'coach.db').resolve()}"

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_signing_secret.get_secret_value() or self.slack_app_token.get_secret_value())

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)
