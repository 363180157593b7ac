"""Single sign-on to the web admin by OpenID Connect (Microsoft Entra ID or any OIDC provider), through Authlib's
Starlette client: authorization code flow with PKCE (S256), state and nonce kept in the session cookie, and the ID
token's signature checked against the provider's JWKS (plus iss, aud, exp and nonce).

The provider proves who someone is; the accounts decide what they may do: only an e-mail that has an account
(`coach users add EMAIL --role ROLE --sso-only`) gets in. Use a single-tenant issuer
(https://login.microsoftonline.com/<tenant id>/v2.0): the e-mail claim is only as trustworthy as the issuer.
"""

from __future__ import annotations

import logging

import httpx
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.starlette_client import OAuth
from fastapi import Request
from joserfc.errors import JoseError

from coach import accounts
from connectors.admin.auth import client_address, safe_next, sign_in
from connectors.admin.context import container_of
from connectors.admin.pages import login_page, public
from connectors.admin.shell import page_router

log = logging.getLogger(__name__)
router = page_router()
CALLBACK = "/admin/login/sso/callback"


def configure(app, settings) -> None:
    """Registers the provider on this app (app.state.admin_sso), or None when single sign-on is not set up."""
    app.state.admin_sso = None
    if not (settings.admin_oidc_issuer and settings.admin_oidc_client_id and settings.admin_oidc_client_secret):
        return
    oauth = OAuth()
    oauth.register("sso", client_id=settings.admin_oidc_client_id, client_secret=settings.admin_oidc_client_secret.get_secret_value(),
                   server_metadata_url=settings.admin_oidc_issuer.rstrip("/") + "/.well-known/openid-configuration",
                   client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256",
                                  "timeout": 10})
    app.state.admin_sso = oauth.sso


def _callback_url(request: Request) -> str:
    public_url = container_of(request).settings.public_url.rstrip("/")
    return public_url + CALLBACK if public_url else str(request.url_for("sso_callback"))


def _refuse(request: Request, status: int, error: str, *, email: str = "", reason: str = ""):
    accounts.audit(container_of(request).engine, actor=email or "(single sign-on)", action="sign-in-refused",
                   address=client_address(request), detail=reason or error)
    return login_page(request, error=error, status=status)


@router.get("/admin/login/sso")
@public
async def sso_start(request: Request, next: str = ""):
    client = request.app.state.admin_sso
    if client is None:
        return login_page(request, error="Single sign-on is not set up here: sign in with a password.", status=404)
    try:
        redirect = await client.authorize_redirect(request, _callback_url(request))
    except (httpx.HTTPError, AuthlibBaseError, ValueError) as exc:  # provider down or its metadata unusable
        log.warning("single sign-on: the provider's metadata could not be read: %s", exc)
        return login_page(request, error="The sign-in provider does not answer. Try again shortly.", status=502)
    request.session["admin_next"] = safe_next(next)
    return redirect


@router.get(CALLBACK, name="sso_callback")
@public
async def sso_callback(request: Request):
    client = request.app.state.admin_sso
    if client is None:
        return login_page(request, error="Single sign-on is not set up here: sign in with a password.", status=404)
    try:
        token = await client.authorize_access_token(request)
    except (AuthlibBaseError, JoseError, httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
        log.warning("single sign-on refused: %s: %s", type(exc).__name__, exc)
        return _refuse(request, 401, "Single sign-on failed: the provider's answer could not be verified. "
                                     "Start again from this page.", reason=f"{type(exc).__name__}")
    claims = token.get("userinfo")  # only present when the ID token was verified against the session's nonce
    if not claims:
        return _refuse(request, 401, "Single sign-on failed: the provider sent no ID token.", reason="no id_token")
    email = str(claims.get("email") or claims.get("preferred_username") or "").strip().lower()
    if not email or claims.get("email_verified") is False:
        return _refuse(request, 403, "The sign-in provider did not confirm an e-mail address for you.",
                       email=email, reason="no verified e-mail")
    account = accounts.get_account(container_of(request).engine, email=email)
    if account is None:
        return _refuse(request, 403, f"{email} has no account for the web admin. Ask an L&D admin to add you "
                                     "(`coach users add EMAIL --role ROLE --sso-only`).", email=email,
                       reason="no account")
    return sign_in(request, account, "single sign-on", request.session.get("admin_next"))
