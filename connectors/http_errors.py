"""Error responses that stay small whatever was sent: FastAPI's own would echo the whole input back (a 5 MB question
refused as too long came back as 5 MB). A refusal says which field and what is wrong, in FastAPI's shape
(`{"detail": [{"loc", "msg", "type"}]}` for a request that does not validate, `{"detail": ...}` for an HTTP error),
but never the input, and never more than a few KB."""

from __future__ import annotations

import json

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

MAX_PROBLEMS = 10  # the first problems of a request; a count of the rest
MAX_TEXT = 200  # characters of a message, or of one part of a field's place (a key someone sent)
MAX_DETAIL_BYTES = 4096  # a structured detail (say, a lesson's authoring problems) larger than this is summarised


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(HTTPException, refused)


def short(text: object, limit: int = MAX_TEXT) -> str:
    text = str(text)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def problem(error: dict) -> dict:
    """`loc`: where (`["body", "question"]`), `msg`: what is wrong ("String should have at most 20000 characters")."""
    why = (error.get("ctx") or {}).get("error")  # e.g. JSON's "Expecting value"
    message = f"{error.get('msg', '')}: {why}" if isinstance(why, str) else error.get("msg", "")
    return {"loc": [part if isinstance(part, int) else short(part, 100) for part in error.get("loc", ())][:10],
            "msg": short(message), "type": short(error.get("type", ""), 60)}


async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    detail = [problem(e) for e in errors[:MAX_PROBLEMS]]
    if len(errors) > MAX_PROBLEMS:
        detail.append({"loc": [], "msg": f"and {len(errors) - MAX_PROBLEMS} more problems", "type": "more"})
    return JSONResponse({"detail": detail}, status_code=422)


async def refused(request: Request, exc: HTTPException) -> Response:
    headers = getattr(exc, "headers", None)
    if exc.status_code in (204, 304):
        return Response(status_code=exc.status_code, headers=headers)
    detail = exc.detail
    if isinstance(detail, str):
        detail = short(detail, 1000)
    elif len(json.dumps(detail, default=str)) > MAX_DETAIL_BYTES:
        detail = short(json.dumps(detail, default=str), 1000)
    return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=headers)
