"""A loopback OpenID Connect provider: discovery, JWKS (one RSA and one EC key), an
authorization endpoint that signs the configured person in at once, and a token endpoint
that checks the code, the PKCE verifier and the client secret before issuing an ID token."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    nonce: str


@dataclass
class Issuer:
    client_secret: str | None = None
    person: dict[str, Any] = field(default_factory=lambda: {
        "sub": "u-42", "preferred_username": "grace", "email": "grace@example.com", "langorch_role": "approver",
        "groups": ["finance"]})
    token_requests: list[dict[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec = ec.generate_private_key(ec.SECP256R1())
        self.grants: dict[str, _Grant] = {}
        keys = []
        for kid, private, alg in (("r1", self.rsa, "RS256"), ("e1", self.ec, "ES256")):
            jwk = json.loads(jwt.algorithms.get_default_algorithms()[alg].to_jwk(private.public_key()))
            keys.append({**jwk, "kid": kid, "alg": alg, "use": "sig"})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self, keys))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def token(self, kid: str = "r1", aud: str = "langorch-ui", ttl_s: int = 300, **claims: Any) -> str:
        private, alg = (self.rsa, "RS256") if kid == "r1" else (self.ec, "ES256")
        body = {"iss": self.url, "aud": aud, "exp": int(time.time()) + ttl_s, **self.person, **claims}
        return jwt.encode(body, private, algorithm=alg, headers={"kid": kid})  # type: ignore[arg-type]

    def authorize(self, query: dict[str, str]) -> str:
        """Where the authorization endpoint sends the browser back."""
        code = secrets.token_urlsafe(16)
        self.grants[code] = _Grant(query["client_id"], query["redirect_uri"], query["code_challenge"],
                                   query.get("nonce", ""))
        return f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"

    def exchange(self, form: dict[str, str], basic: str | None) -> tuple[int, dict[str, Any]]:
        self.token_requests.append(form)
        grant = self.grants.pop(form.get("code", ""), None)
        if grant is None:
            return 400, {"error": "invalid_grant", "error_description": "unknown or used code"}
        verifier = form.get("code_verifier", "")
        digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if digest != grant.challenge or form.get("redirect_uri") != grant.redirect_uri:
            return 400, {"error": "invalid_grant", "error_description": "PKCE verifier or redirect_uri mismatch"}
        if self.client_secret is not None:
            expected = base64.b64encode(f"{grant.client_id}:{self.client_secret}".encode()).decode()
            if basic != f"Basic {expected}":
                return 401, {"error": "invalid_client"}
        return 200, {"id_token": self.token(aud=grant.client_id, nonce=grant.nonce), "token_type": "Bearer"}


def _handler(issuer: Issuer, keys: list[dict[str, Any]]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _json(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if parts.path.endswith("/openid-configuration"):
                self._json(200, {"issuer": issuer.url, "jwks_uri": f"{issuer.url}/jwks",
                                 "authorization_endpoint": f"{issuer.url}/authorize",
                                 "token_endpoint": f"{issuer.url}/token"})
            elif parts.path == "/jwks":
                self._json(200, {"keys": keys})
            elif parts.path == "/authorize":
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                self.send_response(302)
                self.send_header("Location", issuer.authorize(query))
                self.send_header("Content-Length", "0")
                self.end_headers()
            else:
                self._json(404, {"error": "not_found"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            status, body = issuer.exchange(form, self.headers.get("Authorization"))
            self._json(status, body)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler
