"""A mock Slack Web API on 127.0.0.1 (`WebClient(base_url=...)` points at it) that records every call, keeps the
messages it was sent so `conversations.replies` / `.history` answer from them, answers `response_url` posts, and
can be told to fail a method (e.g. 429 with Retry-After, or an `ok: false` error).

The agent surface as Slack documents it (docs.slack.dev, 2026-07) and python-slack-sdk 3.48 calls it: a text stream
(`chat.startStream` opens a message in a thread, `chat.appendStream` adds `markdown_text` chunks, `chat.stopStream`
ends it with blocks under the text; appending to an ended stream is `message_not_in_streaming_state`), the Home tab
(`views.publish`, kept per user), `assistant.threads.setStatus` / `setSuggestedPrompts` (recorded; prompts for an
agent app come without `thread_ts`), and `conversations.info` (a GET) with the Slack Connect flags of a channel."""

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
    message: dict | None = None  # a stream call: the streamed message as it stands now (text and blocks so far)


@dataclass
class SlackAPI:
    calls: list[Call] = field(default_factory=list)
    failures: dict[str, list[tuple[int, dict]]] = field(default_factory=dict)  # method -> [(status, headers)]
    users: dict[str, dict] = field(default_factory=dict)  # user id -> users.info "user"
    messages: list[dict] = field(default_factory=list)  # every message in the workspace: channel, ts, thread_ts...
    socket_url: str = ""  # what apps.connections.open hands out (Socket Mode)
    rate_limits: dict[str, float] = field(default_factory=dict)  # method -> calls per second, then 429 Retry-After 1
    errors: dict[str, str] = field(default_factory=dict)  # method -> the error it answers with (`ok: false`, 200)
    channels: dict[str, dict] = field(default_factory=dict)  # channel id -> conversations.info fields to set
    home: dict[str, dict] = field(default_factory=dict)  # user id -> the Home tab view last published

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
            call = Call(method, args, token)
            self.calls.append(call)
            self.changed.notify_all()
            failures = self.failures.get(method)
            if failures:
                status, headers = failures.pop(0)
                return status, headers, {"ok": False, "error": "ratelimited" if status == 429 else "internal_error"}
            if method in self.rate_limits and self._over_limit(method):
                return 429, {"Retry-After": "1"}, {"ok": False, "error": "ratelimited"}
            if method in self.errors:
                return 200, {}, {"ok": False, "error": self.errors[method]}
            answer = self._answer(method, args)
            if method.endswith("Stream") and answer.get("ok"):
                call.message = self.message_at(args["channel"], answer["ts"])
            return 200, {}, answer

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
        if method in ("chat.startStream", "chat.appendStream", "chat.stopStream"):
            return self._stream(method, args)
        if method == "chat.delete":
            found = self.message_at(args["channel"], args["ts"])
            if found is None:
                return {"ok": False, "error": "message_not_found"}
            self.messages.remove(found)
            return {"ok": True, "channel": args["channel"], "ts": args["ts"]}
        if method == "views.publish":
            self.home[args["user_id"]] = args["view"]
            return {"ok": True, "view": {"id": "V" + args["user_id"], "type": "home", **args["view"]}}
        if method == "conversations.info":
            channel = {"id": args["channel"], "is_im": args["channel"].startswith("D"), "is_shared": False,
                       "is_ext_shared": False, "is_org_shared": False, "is_pending_ext_shared": False}
            return {"ok": True, "channel": channel | self.channels.get(args["channel"], {})}
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

    def _stream(self, method: str, args: dict) -> dict:
        """A streamed message: text from `markdown_text` or markdown_text chunks, blocks under it when it stops."""
        text = args.get("markdown_text") or "".join(c.get("text", "") for c in args.get("chunks") or []
                                                     if c.get("type") == "markdown_text")
        if method == "chat.startStream":
            if not args.get("thread_ts"):
                return {"ok": False, "error": "invalid_thread_ts"}  # streamed messages reply to a request
            if not args["channel"].startswith("D") and not (args.get("recipient_user_id")
                                                             and args.get("recipient_team_id")):
                return {"ok": False, "error": "missing_recipient_user_id"}
            ts = self.next_ts()
            self.messages.append({"type": "message", "channel": args["channel"], "ts": ts, "text": text,
                                  "blocks": [], "thread_ts": args["thread_ts"], "bot_id": BOT_ID, "user": BOT_USER,
                                  "streaming_state": "in_progress", "chunks": list(args.get("chunks") or [])})
            return {"ok": True, "channel": args["channel"], "ts": ts}
        message = self.message_at(args["channel"], args["ts"])
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        if message.get("streaming_state") != "in_progress":
            return {"ok": False, "error": "message_not_in_streaming_state"}
        message["text"] += text
        message["chunks"] += list(args.get("chunks") or [])
        if method == "chat.stopStream":
            message.update(streaming_state="completed", blocks=args.get("blocks") or [])
        return {"ok": True, "channel": args["channel"], "ts": args["ts"]}

    def message_at(self, channel: str, ts: str) -> dict | None:
        with self._lock:
            return next((m for m in self.messages if m["channel"] == channel and m["ts"] == ts), None)

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
