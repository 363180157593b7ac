"""The anonymous web chat's limit per client address (COACH_WEB_QUESTIONS_PER_MINUTE_PER_ADDRESS), beside the coach's
per learner: a learner id is a cookie the browser may drop, so a script that drops it is a new learner every time,
but it stays at one address.

The address is the one the server resolved: behind a load balancer, the client's from X-Forwarded-For when the
balancer's own address is trusted (uvicorn's FORWARDED_ALLOW_IPS), else the balancer's. An IPv6 client counts by
its /64, the network one household or office is given. Each replica counts its own (in memory): behind a balancer
that spreads one address over N replicas, the limit is up to N times the setting.
"""

from __future__ import annotations

import ipaddress
import threading

from fastapi import Request

from coach.i18n import _, speaking
from coach.messages import Reply
from coach.rate_limit import SLOW_DOWN, RateLimiter
from connectors.web.shell import page_language

RETRY_AFTER = {"Retry-After": "60"}  # a question counts for a minute at most
_made = threading.Lock()


def address_of(request: Request) -> str:
    host = request.client.host if request.client else ""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host
    if ip.version == 6 and ip.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(getattr(ip, "ipv4_mapped", None) or ip)


def _limiter(request: Request) -> RateLimiter:
    state = request.app.state
    with _made:
        if getattr(state, "web_address_limit", None) is None:
            settings = state.container.settings
            state.web_address_limit = RateLimiter(settings.web_questions_per_minute_per_address)
        return state.web_address_limit


def slowed(request: Request, learner: str) -> Reply | None:
    """None when this address may ask (the question is counted); else the coach's "give me a minute", in the
    learner's language."""
    if _limiter(request).allow(address_of(request)):
        return None
    with speaking(page_language(request, learner)):
        return Reply(text=_(SLOW_DOWN), mode="service")
