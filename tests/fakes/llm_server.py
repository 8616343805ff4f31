"""A real loopback OpenAI-compatible chat-completions endpoint, deterministic.

In a test::

    with FakeLlmServer(script=["first answer", {"total": 3}]) as llm:
        client = OpenAICompatibleLlm(base_url=llm.base_url, api_key="test")
        ...
        assert llm.requests[0]["model"] == "gpt-4o-mini"

Without a script the reply is derived from the last user message: ``"echo: <text>"``,
or, when the request asks for JSON (``response_format`` json_object / json_schema), a
JSON object (one shaped like the schema when there is one). ``usage`` counts words.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from tests.fakes._http import Failure, JsonReply, LoopbackJsonServer, take_failure

Reply = str | Mapping[str, Any] | list[Any]
Responder = Callable[[dict[str, Any]], Reply]

_STATUS_TYPES = {
    400: ("invalid_request_error", "BadRequestError"),
    401: ("authentication_error", "invalid_api_key"),
    403: ("permission_error", "forbidden"),
    404: ("not_found_error", "model_not_found"),
    429: ("rate_limit_error", "rate_limit_exceeded"),
}


class FakeLlmServer(LoopbackJsonServer):
    """``POST /v1/chat/completions`` (and ``/chat/completions``), ``GET /v1/models``.

    ``script`` is either a list of replies used one per request, in order (a reply is a
    string, a JSON value that is sent as its JSON text, or a callable of the request
    body) — once used up, the default reply applies — or a single callable of the
    request body. Every request body is kept in :attr:`requests`.
    """

    def __init__(
        self,
        script: Sequence[Reply | Responder] | Responder | None = None,
        *,
        delay_s: float = 0.0,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        super().__init__(host, port)
        self._queue: list[Reply | Responder] = []
        self._responder: Responder | None = None
        self.script(script)
        self.delay_s = delay_s
        self._failures: list[Failure] = []
        self._requests: list[dict[str, Any]] = []
        self._headers: list[dict[str, str]] = []
        self._counter = 0

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1`` — what an OpenAI client takes as ``base_url``."""
        return f"{self.url}/v1"

    # -- scripting -------------------------------------------------------------------

    def script(self, script: Sequence[Reply | Responder] | Responder | None) -> None:
        """Replace the scripted replies (see the class docstring)."""
        with self.lock:
            if script is None:
                self._queue, self._responder = [], None
            elif callable(script):
                self._queue, self._responder = [], script
            else:
                self._queue, self._responder = list(script), None

    def fail_next(self, status: int = 500, *, times: int = 1, message: str | None = None) -> None:
        """Answer the next ``times`` requests with HTTP ``status`` and an OpenAI error body."""
        error_type, code = _STATUS_TYPES.get(status, ("server_error", "server_error"))
        body = {
            "error": {
                "message": message or f"scripted failure with HTTP {status}",
                "type": error_type,
                "param": None,
                "code": code,
            }
        }
        with self.lock:
            self._failures.append(Failure(JsonReply(status, body), times))

    # -- inspection ------------------------------------------------------------------

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Every chat-completion request body received, in order (a copy)."""
        with self.lock:
            return list(self._requests)

    @property
    def request_headers(self) -> list[dict[str, str]]:
        """The (lower-cased) headers of every chat-completion request."""
        with self.lock:
            return list(self._headers)

    # -- serving ---------------------------------------------------------------------

    def handle(self, method: str, path: str, body: Any, headers: dict[str, str]) -> JsonReply:
        route = path.split("?", 1)[0].rstrip("/")
        if method == "GET" and route in ("/v1/models", "/models"):
            return JsonReply(200, {"object": "list", "data": [{"id": "fake-model", "object": "model"}]})
        if method != "POST" or route not in ("/v1/chat/completions", "/chat/completions"):
            return JsonReply(404, {"error": {"message": f"no route {method} {path}", "type": "not_found"}})
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            return JsonReply(
                400, {"error": {"message": "'messages' must be a list", "type": "invalid_request_error"}}
            )

        with self.lock:
            self._requests.append(body)
            self._headers.append(headers)
            self._counter += 1
            number = self._counter
            failure = take_failure(self._failures, None)
            item: Reply | Responder | None = self._queue.pop(0) if self._queue else self._responder
        if self.delay_s:
            time.sleep(self.delay_s)
        if failure is not None:
            return failure

        reply: Reply = item(body) if callable(item) else item if item is not None else _default_reply(body)
        text = reply if isinstance(reply, str) else json.dumps(reply)
        finish_reason = "stop"
        limit = body.get("max_completion_tokens") or body.get("max_tokens")
        if isinstance(limit, int) and item is None and not _wants_json(body) and len(text.split()) > limit:
            text = " ".join(text.split()[:limit])
            finish_reason = "length"
        prompt_tokens = max(
            1, sum(_count_tokens(m.get("content")) for m in body["messages"] if isinstance(m, dict))
        )
        completion_tokens = max(1, len(text.split()))
        return JsonReply(
            200,
            {
                "id": f"chatcmpl-fake-{number}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", "fake-model"),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": text, "refusal": None},
                        "finish_reason": finish_reason,
                        "logprobs": None,
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
            },
        )


def _text_parts(content: Any) -> Iterable[str]:
    if isinstance(content, str):
        yield content
    elif isinstance(content, list):
        for part in content:
            if isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str):
                yield part["text"]


def _count_tokens(content: Any) -> int:
    """Words of text, plus a flat 85 per image part (OpenAI's low-detail image cost)."""
    words = sum(len(text.split()) for text in _text_parts(content))
    images = (
        sum(1 for p in content if isinstance(p, dict) and p.get("type") == "image_url")
        if isinstance(content, list)
        else 0
    )
    return words + 85 * images


def _last_user_text(body: dict[str, Any]) -> str:
    for message in reversed(body["messages"]):
        if isinstance(message, dict) and message.get("role") == "user":
            return " ".join(_text_parts(message.get("content")))
    return ""


def _wants_json(body: dict[str, Any]) -> bool:
    fmt = body.get("response_format")
    return isinstance(fmt, dict) and fmt.get("type") in ("json_object", "json_schema")


def _default_reply(body: dict[str, Any]) -> Reply:
    text = _last_user_text(body)
    fmt = body.get("response_format")
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        schema = (fmt.get("json_schema") or {}).get("schema") or {}
        return json.dumps(_sample(schema, text))
    if isinstance(fmt, dict) and fmt.get("type") == "json_object":
        return json.dumps({"echo": text, "model": body.get("model")})
    return f"echo: {text}"


def _sample(schema: Any, text: str) -> Any:
    """A deterministic value that satisfies a (simple) JSON schema."""
    if not isinstance(schema, dict):
        return text
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if schema.get(key):
            return _sample(schema[key][0], text)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or "properties" in schema:
        return {name: _sample(sub, text) for name, sub in (schema.get("properties") or {}).items()}
    if kind == "array":
        count = int(schema.get("minItems", 1))
        return [_sample(schema.get("items", {}), text) for _ in range(count)]
    if kind == "integer":
        return int(schema.get("minimum", len(text.split())))
    if kind == "number":
        return float(schema.get("minimum", len(text.split())))
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    value = text or "sample"
    if schema.get("format") == "date":
        return "2024-01-01"
    if schema.get("format") == "email":
        return "someone@example.com"
    return value[: int(schema.get("maxLength", len(value)))]
