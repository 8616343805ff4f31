"""A loopback stand-in for HashiCorp Vault's KV v2 read API, enough for ``hvac``.

``GET /v1/{mount}/data/{path}`` answers ``{"data": {"data": ..., "metadata": ...}}``
for secrets put with :meth:`FakeVaultServer.put`, 404 for others, 403 for a wrong
``X-Vault-Token``, and a scripted status after :meth:`FakeVaultServer.fail_next`.
"""

from __future__ import annotations

from typing import Any

from tests.fakes._http import Failure, JsonReply, LoopbackJsonServer, take_failure


class FakeVaultServer(LoopbackJsonServer):
    """KV v2 reads on 127.0.0.1 with one accepted token."""

    def __init__(self, token: str = "root-token", mount: str = "secret") -> None:
        super().__init__()
        self.token = token
        self.mount = mount
        self._secrets: dict[str, dict[str, Any]] = {}
        self._failures: list[Failure] = []
        self.reads: list[str] = []

    def put(self, path: str, data: dict[str, Any]) -> None:
        """Store (or replace) the secret at ``path``."""
        with self.lock:
            self._secrets[path.strip("/")] = dict(data)

    def fail_next(self, status: int = 503, *, times: int = 1) -> None:
        """Answer the next ``times`` reads with HTTP ``status``."""
        with self.lock:
            self._failures.append(Failure(JsonReply(status, {"errors": [f"scripted {status}"]}), times))

    def handle(self, method: str, path: str, body: Any, headers: dict[str, str]) -> JsonReply:
        prefix = f"/v1/{self.mount}/data/"
        route = path.split("?", 1)[0]
        if method != "GET" or not route.startswith(prefix):
            return JsonReply(404, {"errors": [f"no handler for {method} {route}"]})
        if headers.get("x-vault-token") != self.token:
            return JsonReply(403, {"errors": ["permission denied"]})
        secret_path = route[len(prefix) :].strip("/")
        with self.lock:
            self.reads.append(secret_path)
            failure = take_failure(self._failures, None)
            data = self._secrets.get(secret_path)
        if failure is not None:
            return failure
        if data is None:
            return JsonReply(404, {"errors": []})
        metadata = {
            "version": 1,
            "deletion_time": "",
            "destroyed": False,
            "created_time": "2024-01-01T00:00:00Z",
        }
        return JsonReply(200, {"data": {"data": data, "metadata": metadata}})
