"""The image's health check: exit 0 when the URL answers 2xx within the timeout, 1 otherwise (a 503 from /readyz,
a refused connection, a stall). Standard library only: the slim image has no curl.

    python /opt/coach/healthcheck.py [URL]    default http://127.0.0.1:$COACH_PORT/readyz (COACH_PORT default 3978)
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

TIMEOUT_S = 4.0


def check(url: str, timeout: float = TIMEOUT_S) -> tuple[bool, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return 200 <= response.status < 300, f"{url}: {response.status}"
    except urllib.error.HTTPError as exc:
        return False, f"{url}: {exc.code} {exc.read(300).decode('utf-8', 'replace')}"
    except (OSError, ValueError) as exc:  # refused, reset, timed out, a malformed URL
        return False, f"{url}: {exc}"


def main(argv: list[str]) -> int:
    url = argv[1] if len(argv) > 1 else f"http://127.0.0.1:{os.environ.get('COACH_PORT') or '3978'}/readyz"
    ok, said = check(url)
    print(said)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
