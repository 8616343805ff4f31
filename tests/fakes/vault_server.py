"""A loopback stand-in for the few HashiCorp Vault endpoints ``hvac`` uses to read secrets.

* KV v2 ``GET /v1/{mount}/data/{path}`` → ``{"data": {"data": ..., "metadata": ...}}``, or
  KV v1 ``GET /v1/{mount}/{path}`` → ``{"data": ...}`` (``kv_version``);
* AppRole ``POST /v1/auth/{approle_mount}/login`` ``{role_id, secret_id}`` → a new client
  token (400 for a wrong pair), accepted until :meth:`FakeVaultServer.revoke_issued`;
* namespaces (Vault Enterprise): ``X-Vault-Namespace`` selects the secrets put with
  ``namespace=``.

Unknown paths answer 404, a token it does not accept 403, and a scripted status after
:meth:`FakeVaultServer.fail_next`.
"""

from __future__ import annotations

import secrets
from typing import Any

from tests.fakes._http import Failure, JsonReply, LoopbackJsonServer, take_failure


class FakeVaultServer(LoopbackJsonServer):
    """KV reads and AppRole logins on 127.0.0.1."""

    def __init__(self, token: str = "root-token", mount: str = "secret", *, kv_version: int = 2,
                 approle: tuple[str, str] | None = None, approle_mount: str = "approle") -> None:
        super().__init__()
        self.token = token
        self.mount = mount
        self.kv_version = kv_version
        self.approle = approle
        self.approle_mount = approle_mount
        self._secrets: dict[tuple[str, str], dict[str, Any]] = {}
        self._issued: set[str] = set()
        self._failures: list[Failure] = []
        self.reads: list[str] = []
        self.logins = 0
        self.namespaces_seen: list[str | None] = []

    def put(self, path: str, data: dict[str, Any], *, namespace: str = "") -> None:
        """Store (or replace) the secret at ``path`` (in ``namespace``)."""
        with self.lock:
            self._secrets[(namespace.strip("/"), path.strip("/"))] = dict(data)

    def fail_next(self, status: int = 503, *, times: int = 1) -> None:
        """Answer the next ``times`` reads with HTTP ``status``."""
        with self.lock:
            self._failures.append(Failure(JsonReply(status, {"errors": [f"scripted {status}"]}), times))

    def revoke_issued(self) -> None:
        """Every token an AppRole login gave out stops working (as when it expires)."""
        with self.lock:
            self._issued.clear()

    def handle(self, method: str, path: str, body: Any, headers: dict[str, str]) -> JsonReply:
        route = path.split("?", 1)[0]
        if method == "POST" and route == f"/v1/auth/{self.approle_mount}/login":
            return self._login(body)
        prefix = f"/v1/{self.mount}/data/" if self.kv_version == 2 else f"/v1/{self.mount}/"
        if method != "GET" or not route.startswith(prefix):
            return JsonReply(404, {"errors": [f"no handler for {method} {route}"]})
        token = headers.get("x-vault-token")
        with self.lock:
            accepted = token == self.token or token in self._issued
        if not accepted:
            return JsonReply(403, {"errors": ["permission denied"]})
        namespace = headers.get("x-vault-namespace")
        secret_path = route[len(prefix):].strip("/")
        with self.lock:
            self.reads.append(secret_path)
            self.namespaces_seen.append(namespace)
            failure = take_failure(self._failures, None)
            data = self._secrets.get(((namespace or "").strip("/"), secret_path))
        if failure is not None:
            return failure
        if data is None:
            return JsonReply(404, {"errors": []})
        if self.kv_version == 1:
            return JsonReply(200, {"data": data, "lease_duration": 2764800, "renewable": False})
        metadata = {"version": 1, "deletion_time": "", "destroyed": False, "created_time": "2024-01-01T00:00:00Z"}
        return JsonReply(200, {"data": {"data": data, "metadata": metadata}})

    def _login(self, body: Any) -> JsonReply:
        pair = (body or {}).get("role_id"), (body or {}).get("secret_id")
        if self.approle is None or pair != self.approle:
            return JsonReply(400, {"errors": ["invalid role or secret ID"]})
        token = f"hvs.{secrets.token_hex(8)}"
        with self.lock:
            self._issued.add(token)
            self.logins += 1
        return JsonReply(200, {"auth": {"client_token": token, "accessor": "acc", "policies": ["default"],
                                        "lease_duration": 3600, "renewable": True}})
