"""Signed tokens: our own session tokens (HS256), bearer tokens minted with the shared HS256
key, and RS256/ES256 tokens of an OIDC issuer verified against its JWKS."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any

import httpx
import jwt

from langorch.auth.identity import Identity
from langorch.auth.roles import highest
from langorch.settings import AuthSettings

SESSION_TYPE = "langorch-session"
ASYMMETRIC = ("RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256")


class TokenRejected(Exception):
    """The token is malformed, expired, not ours, or names no role: the message says which."""


@dataclass(frozen=True)
class Session:
    user_id: str
    version: int
    session_id: str


def issue_session(key: bytes, user_id: str, version: int, ttl_s: int) -> tuple[str, str]:
    """A session token and the session id it carries."""
    sid = secrets.token_urlsafe(16)
    now = int(time.time())
    token = jwt.encode({"typ": SESSION_TYPE, "sub": user_id, "sv": version, "sid": sid, "iat": now,
                        "exp": now + ttl_s}, key, algorithm="HS256")
    return token, sid


def read_session(key: bytes, token: str) -> Session:
    try:
        claims = jwt.decode(token, key, algorithms=["HS256"], options={"require": ["exp", "sub", "sid"]})
    except jwt.ExpiredSignatureError as exc:
        raise TokenRejected("the session has expired; sign in again") from exc
    except jwt.PyJWTError as exc:
        raise TokenRejected("the session cookie is not valid; sign in again") from exc
    if claims.get("typ") != SESSION_TYPE or not isinstance(claims.get("sv"), int):
        raise TokenRejected("the session cookie is not valid; sign in again")
    return Session(str(claims["sub"]), int(claims["sv"]), str(claims["sid"]))


def csrf_token(key: bytes, session_id: str) -> str:
    """The CSRF token of a session: an HMAC of its id, so it cannot be forged without the key."""
    return hmac.new(key, b"csrf:" + session_id.encode(), hashlib.sha256).hexdigest()


class TokenVerifier:
    """Bearer JWTs: HS256 with the shared key, or the OIDC issuer's keys (JWKS, cached)."""

    def __init__(self, settings: AuthSettings, key: bytes) -> None:
        self.settings = settings
        self.key = key
        self._jwks: jwt.PyJWKClient | None = None
        self._jwks_lock = asyncio.Lock()
        self._discovered: dict[str, Any] | None = None

    async def verify(self, token: str) -> Identity:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise TokenRejected("the bearer token is not a JWT or API key") from exc
        alg = header.get("alg")
        if alg == "HS256":
            claims = self._decode(token, self.key, "HS256", self.settings.token_issuer, self.settings.token_audience)
            if claims.get("typ") == SESSION_TYPE:
                raise TokenRejected("a session token is sent as a cookie, not as a bearer token")
            return self._identity(claims, "hs256")
        if alg in ASYMMETRIC:
            claims = await self.issuer_claims(token, self.settings.oidc_audience)
            return self._identity(claims, str(self.settings.oidc_issuer))
        raise TokenRejected(f"token algorithm {alg!r} is not accepted (HS256, RS256, ES256 …)")

    async def issuer_claims(self, token: str, audience: str | None) -> dict[str, Any]:
        """The claims of a token the OIDC issuer signed (access or ID token), checked for
        signature, issuer, ``audience`` and expiry."""
        if not self.settings.oidc_issuer:
            raise TokenRejected("asymmetric tokens need an OIDC issuer (LANGORCH_AUTH__OIDC_ISSUER)")
        try:
            alg = str(jwt.get_unverified_header(token).get("alg"))
        except jwt.PyJWTError as exc:
            raise TokenRejected("the token is not a JWT") from exc
        if alg not in ASYMMETRIC:
            raise TokenRejected(f"the issuer's tokens must be signed with RS256/ES256, not {alg!r}")
        client = await self._jwks_client()
        try:
            signing = await asyncio.to_thread(client.get_signing_key_from_jwt, token)
        except jwt.PyJWKClientError as exc:
            raise TokenRejected(f"no key of the issuer verifies this token: {exc}") from exc
        return self._decode(token, signing.key, alg, self.settings.oidc_issuer, audience)

    def claims_identity(self, claims: dict[str, Any]) -> Identity:
        return self._identity(claims, str(self.settings.oidc_issuer))

    async def discovery(self) -> dict[str, Any]:
        """The issuer's OpenID configuration (cached)."""
        if self._discovered is None:
            issuer = str(self.settings.oidc_issuer).rstrip("/")
            try:
                async with httpx.AsyncClient(timeout=10) as http:
                    answer = await http.get(f"{issuer}/.well-known/openid-configuration")
                    answer.raise_for_status()
                    document = answer.json()
            except (httpx.HTTPError, ValueError) as exc:
                raise TokenRejected(f"the OIDC issuer's discovery document could not be read: {exc}") from exc
            if not isinstance(document, dict) or "jwks_uri" not in document:
                raise TokenRejected("the OIDC issuer's discovery document has no jwks_uri")
            self._discovered = document
        return self._discovered

    def _decode(self, token: str, key: Any, alg: str, issuer: str | None, audience: str | None) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(token, key, algorithms=[alg], issuer=issuer, audience=audience,
                                                options={"require": ["exp", "sub"],
                                                         "verify_aud": audience is not None}, leeway=30)
        except jwt.ExpiredSignatureError as exc:
            raise TokenRejected("the bearer token has expired") from exc
        except jwt.InvalidAudienceError as exc:
            raise TokenRejected("the bearer token is for another audience") from exc
        except jwt.InvalidIssuerError as exc:
            raise TokenRejected("the bearer token comes from another issuer") from exc
        except jwt.MissingRequiredClaimError as exc:
            raise TokenRejected(f"the bearer token lacks the {exc.claim!r} claim") from exc
        except jwt.PyJWTError as exc:
            raise TokenRejected(f"the bearer token is not valid: {exc}") from exc
        return claims

    def _identity(self, claims: dict[str, Any], issuer: str) -> Identity:
        raw = claims.get(self.settings.role_claim)
        names = raw if isinstance(raw, list) else [raw]
        role = highest(str(r) for r in names if r is not None)
        groups = claims.get(self.settings.groups_claim)
        name = claims.get(self.settings.name_claim) or claims.get("email") or claims["sub"]
        return Identity(subject=f"token:{issuer}|{claims['sub']}", name=str(name)[:200], kind="token", role=role,
                        groups=frozenset(str(g) for g in groups) if isinstance(groups, list) else frozenset(),
                        email=str(claims["email"]) if claims.get("email") else None)

    async def _jwks_client(self) -> jwt.PyJWKClient:
        async with self._jwks_lock:
            if self._jwks is None:
                url = self.settings.oidc_jwks_url or str((await self.discovery())["jwks_uri"])
                self._jwks = jwt.PyJWKClient(url, cache_keys=True, lifespan=300, timeout=10)
            return self._jwks
