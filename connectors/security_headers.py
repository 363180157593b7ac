"""The headers every page of the web chat and the web admin is sent with, error responses included: never framed,
sniffed or cached, and a Content-Security-Policy under which only the app's own files run, style, load and post.

No inline or injected script or <style>, no eval, no framing, no plugins, no foreign fetch or form target. The web
chat's strings for chat.js travel in a `<script type="application/json">` data block, which no browser runs. The
admin's charts work within it: Vega evaluates its expressions with the vendored vega-interpreter instead of new
Function(), and vega-embed's and the tooltip's styles come from admin.css instead of being injected.
"""

from __future__ import annotations

from typing import Iterable

CONTENT_SECURITY_POLICY = (b"default-src 'self'; script-src 'self'; style-src 'self'; object-src 'none'; "
                           b"base-uri 'self'; frame-ancestors 'none'; form-action 'self'")
HEADERS = ((b"content-security-policy", CONTENT_SECURITY_POLICY), (b"x-frame-options", b"DENY"),
           (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin"))


class SecurityHeaders:
    """Pure ASGI, so streamed responses stay streamed. `paths`: those it covers, exactly, or every path under one
    that ends in "/"; `cached`: prefixes of static files, which are not sent `Cache-Control: no-store`. A header the
    response sets itself is kept."""

    def __init__(self, app, paths: Iterable[str], cached: Iterable[str] = ()) -> None:
        self.app, paths = app, tuple(paths)
        self.exact = frozenset(p for p in paths if not p.endswith("/"))
        self.prefixes, self.cached = tuple(p for p in paths if p.endswith("/")), tuple(cached)

    def covers(self, path: str) -> bool:
        return path in self.exact or path.startswith(self.prefixes)

    async def __call__(self, scope, receive, send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not (path and self.covers(path)):
            await self.app(scope, receive, send)
            return
        extra = HEADERS + (() if path.startswith(self.cached) else ((b"cache-control", b"no-store"),))

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in extra if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
