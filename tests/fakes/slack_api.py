"""A mock Slack Web API on 127.0.0.1 (`WebClient(base_url=...)` points at it) that records every call, keeps the
messages it was sent so `conversations.replies` / `.history` answer from them, answers `response_url` posts, and
can be told to fail a method (e.g. 429 with Retry-After)."""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

BOT_USER, BOT_ID, TEAM = "UCOACHBOT", "BCOACH", "T0NORTHWIND"


@dataclass
class Call:
    method: str  # chat.postMessage, ... or "response_url"
    args: dict
    token: str = ""
    at: float = field(default_factory=time.monotonic)  # when the call arrived


@dataclass
class SlackAPI:
    calls: list[Call] = field(default_factory=list)
    failures: dict[str, list[tuple[int, dict]]] = field(default_factory=dict)  # method -> [(status, headers)]
    users: dict[str, dict] = field(default_factory=dict)  # user id -> users.info "user"
    messages: list[dict] = field(default_factory=list)  # every message in the workspace: channel, ts, thread_ts...
    socket_url: str = ""  # what apps.connections.open hands out (Socket Mode)
    rate_limits: dict[str, float] = field(default_factory=dict)  # method -> calls per second, then 429 Retry-After 1

    def __post_init__(self) -> None:
        self._ts = itertools.count(1)
        self._windows: dict[str, list[int]] = {}
        self._lock = threading.RLock()
        self.changed = threading.Condition(self._lock)
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    args = json.loads(raw or "{}")
                else:
                    args = dict(parse_qsl(raw))
                for name in ("blocks", "attachments", "view", "prompts", "metadata"):
                    if isinstance(args.get(name), str):
                        args[name] = json.loads(args[name])
                path, _, query = self.path.partition("?")
                args |= dict(parse_qsl(query))
                token = self.headers.get("Authorization", "").removeprefix("Bearer ") or args.pop("token", "")
                method = "response_url" if path.startswith("/response/") else path.rstrip("/").rsplit("/", 1)[-1]
                status, headers, payload = api.handle(method, args, token)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self.base_url = self.url + "/api/"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def next_ts(self) -> str:
        return f"1700000000.{next(self._ts):06d}"

    def post_user_message(self, channel: str, user: str, text: str, thread_ts: str | None = None) -> dict:
        """A message a person wrote (what Slack would hold before sending us its event)."""
        message = {"type": "message", "channel": channel, "user": user, "text": text, "ts": self.next_ts()}
        if thread_ts:
            message["thread_ts"] = thread_ts
        with self._lock:
            self.messages.append(message)
        return message

    def handle(self, method: str, args: dict, token: str) -> tuple[int, dict, dict]:
        with self.changed:
            self.calls.append(Call(method, args, token))
            self.changed.notify_all()
            failures = self.failures.get(method)
            if failures:
                status, headers = failures.pop(0)
                return status, headers, {"ok": False, "error": "ratelimited" if status == 429 else "internal_error"}
            if method in self.rate_limits and self._over_limit(method):
                return 429, {"Retry-After": "1"}, {"ok": False, "error": "ratelimited"}
            return 200, {}, self._answer(method, args)

    def _over_limit(self, method: str) -> bool:
        """Slack's limits are per method and workspace, counted per second here (one workspace)."""
        second = int(time.monotonic())
        window = self._windows.setdefault(method, [second, 0])
        if window[0] != second:
            window[:] = [second, 0]
        window[1] += 1
        return window[1] > self.rate_limits[method]

    def _answer(self, method: str, args: dict) -> dict:
        if method == "auth.test":
            return {"ok": True, "user_id": BOT_USER, "bot_id": BOT_ID, "team_id": TEAM, "user": "coach",
                    "url": "https://northwind.slack.com/"}
        if method in ("chat.postMessage", "chat.postEphemeral"):
            ts = self.next_ts()
            message = {"type": "message", "channel": args["channel"], "ts": ts, "text": args.get("text", ""),
                       "blocks": args.get("blocks", []), "bot_id": BOT_ID, "user": BOT_USER}
            if args.get("thread_ts"):
                message["thread_ts"] = args["thread_ts"]
            if args.get("metadata"):
                message["metadata"] = args["metadata"]
            if method == "chat.postMessage":
                self.messages.append(message)
                return {"ok": True, "channel": args["channel"], "ts": ts, "message": message}
            return {"ok": True, "message_ts": ts}
        if method == "chat.update":
            for message in self.messages:
                if message["channel"] == args["channel"] and message["ts"] == args["ts"]:
                    message.update(text=args.get("text", ""), blocks=args.get("blocks", []))
            return {"ok": True, "channel": args["channel"], "ts": args["ts"], "text": args.get("text", "")}
        if method == "conversations.replies":
            thread = [m for m in self.messages if m["channel"] == args["channel"]
                      and (m["ts"] == args["ts"] or m.get("thread_ts") == args["ts"])]
            return {"ok": True, "messages": thread, "has_more": False}
        if method == "conversations.history":
            history = [m for m in self.messages if m["channel"] == args["channel"] and "thread_ts" not in m]
            return {"ok": True, "messages": history[::-1][: int(args.get("limit", 100))], "has_more": False}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + args["users"]}}
        if method == "users.info":
            user = self.users.get(args["user"], {"id": args["user"], "tz": "Europe/Amsterdam", "is_bot": False,
                                                 "real_name": "", "profile": {}})
            return {"ok": True, "user": user}
        if method == "apps.connections.open":
            return {"ok": True, "url": self.socket_url}
        if method == "oauth.v2.access":
            return {"ok": True, "app_id": "A1", "access_token": "xoxb-installed", "token_type": "bot",
                    "scope": "chat:write,commands", "bot_user_id": BOT_USER, "team": {"id": "T2OTHER", "name": "Other"},
                    "enterprise": None, "is_enterprise_install": False, "authed_user": {"id": "U2ADMIN"}}
        return {"ok": True}  # views.open, assistant.threads.*, response_url, ...

    # --- what the tests look at -------------------------------------------------------------------------------------

    def of(self, *methods: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method in methods]

    def wait_for(self, predicate, timeout: float = 20.0) -> list[Call]:
        """Waits until `predicate(calls)` is true (the answer is made after the ack, so it arrives later)."""
        with self.changed:
            if not self.changed.wait_for(lambda: predicate(self.calls), timeout=timeout):
                raise AssertionError(f"the mock Slack API never saw it; calls: {[c.method for c in self.calls]}")
            return list(self.calls)
