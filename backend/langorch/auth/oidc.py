"""Single sign-on: the OpenID Connect authorization code flow with PKCE.

``begin`` sends the browser to the issuer with a fresh state, nonce and code verifier kept
in a short-lived signed cookie; ``finish`` checks the state, exchanges the code (with the
verifier, and the client secret for a confidential client), verifies the ID token
(signature against the JWKS, issuer, audience = client id, expiry, nonce) and returns its
claims."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt

from langorch.auth.tokens import TokenRejected, TokenVerifier
from langorch.settings import AuthSettings

FLOW_TTL_S = 600
FLOW_TYPE = "langorch-oidc-flow"


class SignInFailed(Exception):
    """The sign-in cannot complete; the message says why, for the person signing in."""


@dataclass(frozen=True)
class Start:
    redirect_to: str
    flow_cookie: str


def enabled(settings: AuthSettings) -> bool:
    return bool(settings.oidc_issuer and settings.oidc_client_id)


def safe_next(value: str | None) -> str:
    """Only a path on this server (no scheme, no host, no //): no open redirect."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


async def begin(settings: AuthSettings, verifier: TokenVerifier, key: bytes, redirect_uri: str,
                next_path: str | None) -> Start:
    discovery = await verifier.discovery()
    endpoint = discovery.get("authorization_endpoint")
    if not isinstance(endpoint, str):
        raise SignInFailed("the identity provider publishes no authorization_endpoint")
    state, nonce, code_verifier = (secrets.token_urlsafe(24) for _ in range(3))
    challenge = base64.urlsafe_b64encode(hashlib.sha256(code_verifier.encode()).digest()).rstrip(b"=").decode()
    query = urlencode({"response_type": "code", "client_id": settings.oidc_client_id, "redirect_uri": redirect_uri,
                       "scope": settings.oidc_scopes, "state": state, "nonce": nonce, "code_challenge": challenge,
                       "code_challenge_method": "S256"})
    cookie = jwt.encode({"typ": FLOW_TYPE, "state": state, "nonce": nonce, "verifier": code_verifier,
                         "next": safe_next(next_path), "redirect_uri": redirect_uri,
                         "exp": int(time.time()) + FLOW_TTL_S}, key, algorithm="HS256")
    separator = "&" if "?" in endpoint else "?"
    return Start(redirect_to=f"{endpoint}{separator}{query}", flow_cookie=cookie)


async def finish(settings: AuthSettings, verifier: TokenVerifier, key: bytes, flow_cookie: str | None,
                 code: str | None, state: str | None, error: str | None) -> tuple[dict[str, Any], str]:
    """(ID token claims, the path to return to)."""
    if error:
        raise SignInFailed(f"the identity provider refused the sign-in: {error[:200]}")
    if not flow_cookie:
        raise SignInFailed("the sign-in took too long or started in another browser; try again")
    try:
        flow = jwt.decode(flow_cookie, key, algorithms=["HS256"])
    except jwt.PyJWTError as exc:
        raise SignInFailed("the sign-in took too long or started in another browser; try again") from exc
    if flow.get("typ") != FLOW_TYPE or not state or not hmac.compare_digest(str(flow.get("state")), state):
        raise SignInFailed("the sign-in answer does not belong to this browser's sign-in; try again")
    if not code:
        raise SignInFailed("the identity provider sent no authorization code")
    discovery = await verifier.discovery()
    endpoint = discovery.get("token_endpoint")
    if not isinstance(endpoint, str):
        raise SignInFailed("the identity provider publishes no token_endpoint")
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": flow["redirect_uri"],
            "client_id": settings.oidc_client_id, "code_verifier": flow["verifier"]}
    secret = settings.oidc_client_secret
    try:
        async with httpx.AsyncClient(timeout=15) as http:
            if secret is not None:
                answer = await http.post(endpoint, data=form, headers={"Accept": "application/json"},
                                         auth=httpx.BasicAuth(str(settings.oidc_client_id),
                                                              secret.get_secret_value()))
            else:
                answer = await http.post(endpoint, data=form, headers={"Accept": "application/json"})
        body = answer.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise SignInFailed(f"the identity provider's token endpoint did not answer: {exc}") from exc
    if answer.status_code != 200 or not isinstance(body, dict) or not isinstance(body.get("id_token"), str):
        detail = body.get("error_description") or body.get("error") if isinstance(body, dict) else None
        raise SignInFailed(f"the identity provider refused the code ({answer.status_code}: {detail or 'no id_token'})")
    try:
        claims = await verifier.issuer_claims(body["id_token"], settings.oidc_client_id)
    except TokenRejected as exc:
        raise SignInFailed(f"the ID token is not valid: {exc}") from exc
    if not hmac.compare_digest(str(claims.get("nonce", "")), str(flow["nonce"])):
        raise SignInFailed("the ID token was not issued for this sign-in (nonce)")
    return claims, str(flow["next"])
