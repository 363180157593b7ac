"""The app's OpenAPI schema, for those who may use the admin: it lists every admin route, so it is not public (the
app serves no /openapi.json and no /api/docs). A signed-in browser (any role) or a bearer token (any role) reads it
at /admin/openapi.json, the path the admin's session cookie is sent to; anyone else gets 401, never a sign-in page."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from coach.store.models import Account
from connectors.admin.auth import require_token, signed_in

router = APIRouter()
_by_token = require_token()


def session_or_token(request: Request) -> Account:
    """The signed-in account of this browser, else the bearer token's (401 with the token challenge if neither)."""
    account = signed_in(request)
    if account is None:
        return _by_token(request)
    request.state.account, request.state.actor = account, account.email
    return account


session_or_token.admin_roles = ()  # any signed-in role (see connectors/admin/__init__.py: verify_routes)


@router.get("/admin/openapi.json", include_in_schema=False)
def openapi(request: Request, account: Account = Depends(session_or_token)) -> JSONResponse:
    return JSONResponse(request.app.openapi())
