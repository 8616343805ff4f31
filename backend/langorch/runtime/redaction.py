"""What a run may show and store of its secrets and sensitive variables.

A secret's value lives only inside the step that sends it. Everywhere else — the
checkpointed state, stored step results, run variables and outputs, errors, approval
prompts, events, diagnostics and logs — it is a **reference** or a **mask**:

* ``{{secrets.NAME}}`` renders to a reference, ``<<secret:NAME:NONCE>>`` (a field of a
  JSON secret: ``<<secret:NAME.field:NONCE>>``), never to the value. The nonce is the
  run's (kept in its checkpointed state), so text from outside the run that looks like a
  reference — an input, an HTTP answer — is never resolved: references cannot be forged.
* An outgoing call (agent, MCP tool, ``http_request``, notification webhook) gets the
  values: the runtime resolves references just before the call is made
  (``RunContext.reveal``).
* A value that comes back anyway (an echo in an answer, a URL in an error message) is
  *sealed* before it is stored: replaced by its reference (:meth:`Redactor.seal`); its
  base64 and JSON-escaped forms by ``***``.
* What is shown (events, API answers, logs) carries references without the nonce,
  ``<<secret:NAME>>`` (:func:`display`), and ``***`` for any value (:meth:`Redactor.redact`).

A :class:`Redactor` learns the values from the secrets provider, by the procedure's
``secret_references``, whenever a run starts or resumes, in whatever process
(``RunContext.prime_secrets``): nothing depends on the memory of the process that first
read them. Sensitive variables (``"sensitive": true``, or a name that says it holds a
secret) are masked in what is shown, as before; they are the run's own data and stay
as they are in its state.
"""

from __future__ import annotations

import base64
import json
import re
import secrets as _random
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = ["MASK", "REFERENCE", "Redactor", "SecretReference", "display", "has_reference", "looks_secret",
           "new_nonce", "reference"]

MASK = "***"
_SECRET_WORD = re.compile(
    r"(?<![a-z])(password|passwd|passphrase|pwd|secrets?|token|api_?key|authorization|credentials?"
    r"|private_?key|cookie)(?![a-z])")
"""A secret word as a whole segment of a key (``access_token``, ``apiKey``, ``db-password``),
so counters such as ``prompt_tokens`` or ``max_tokens`` stay visible."""
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")

_OPEN = "<<secret:"
_SEGMENT = r"[A-Za-z0-9_-]+"
REFERENCE = re.compile(rf"<<secret:(?P<path>{_SEGMENT}(?:\.{_SEGMENT})*)(?::(?P<nonce>[0-9a-f]{{16}}))?>>")
"""A reference to a secret (or one of its fields), with the run's nonce or (shown) without."""
_SEGMENT_RE = re.compile(rf"\A{_SEGMENT}\Z")
_MIN_LENGTH = 4
"""Shorter values are not masked: they would mask half of every text."""
_MIN_CUT = 6
"""The shortest start of a secret that is masked at the end of a cut text."""
_MAX_DEPTH = 32


def looks_secret(key: str) -> bool:
    """Whether a mapping key names a secret (its value is then masked)."""
    return _SECRET_WORD.search(_CAMEL.sub("_", key).lower().replace("-", "_")) is not None


def new_nonce() -> str:
    """A run's reference nonce: 16 random hex digits."""
    return _random.token_hex(8)


def reference(path: str, nonce: str | None = None) -> str:
    """The reference text of secret ``path`` (``name`` or ``name.field``); shown form without a nonce."""
    return f"{_OPEN}{path}:{nonce}>>" if nonce else f"{_OPEN}{path}>>"


def valid_segment(segment: str) -> bool:
    """Whether ``segment`` can be part of a reference (letters, digits, ``_`` and ``-``)."""
    return bool(_SEGMENT_RE.match(segment))


def has_reference(value: Any) -> bool:
    """Whether any string inside ``value`` holds a reference (with or without a nonce)."""
    found = False

    def visit(text: str) -> str:
        nonlocal found
        found = found or _OPEN in text
        return text

    _map_strings(value, visit)
    return found


class SecretReference(str):
    """What ``{{secrets.NAME}}`` renders to: the reference text, with ``.field`` and ``[index]``
    reaching into a JSON secret (``{{secrets.portal.username}}``)."""

    path: str
    nonce: str

    def __new__(cls, path: str, nonce: str) -> SecretReference:
        made = super().__new__(cls, reference(path, nonce))
        made.path = path
        made.nonce = nonce
        return made

    def child(self, key: Any) -> SecretReference:
        segment = str(key)
        if not valid_segment(segment):
            from langorch.runtime.errors import TemplateError

            raise TemplateError(f"secret field {segment!r} cannot be referenced (use letters, digits, _ and -)",
                                details={"secret": self.path})
        return SecretReference(f"{self.path}.{segment}", self.nonce)


def display(value: Any) -> Any:
    """``value`` with every reference in its shown form (no nonce): for events and API answers."""
    return _map_strings(value, _display_text)


def _display_text(text: str) -> str:
    if _OPEN not in text:
        return text
    return REFERENCE.sub(lambda m: reference(m.group("path")), text)


def _map_strings(value: Any, fn: Callable[[str], str], depth: int = 0) -> Any:
    """``value`` with ``fn`` applied to every string in it (mapping keys included); containers
    that change are copied, the others returned as they are."""
    if isinstance(value, str):
        return fn(value)
    if depth > _MAX_DEPTH:
        return value
    if isinstance(value, Mapping):
        out: dict[Any, Any] = {}
        changed = False
        for k, v in value.items():
            new_k = fn(k) if isinstance(k, str) else k
            new_v = _map_strings(v, fn, depth + 1)
            changed = changed or new_k is not k or new_v is not v
            out[new_k] = new_v
        return out if changed else value
    if isinstance(value, list | tuple):
        items = [_map_strings(v, fn, depth + 1) for v in value]
        if all(a is b for a, b in zip(items, value, strict=True)):
            return value
        return items if isinstance(value, list) else tuple(items)
    return value


def _derived_forms(value: str) -> set[str]:
    """How a value also appears in text: JSON-escaped, base64 (standard and URL-safe, with
    and without padding)."""
    raw = value.encode("utf-8")
    forms = {json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]}
    for encoded in (base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()):
        forms.update((encoded, encoded.rstrip("=")))
    forms.discard(value)
    return {f for f in forms if len(f) >= _MIN_LENGTH}


class Redactor:
    """Masks what a run shows, seals what it stores (see the module docstring)."""

    def __init__(self, sensitive_names: Iterable[str] = ()) -> None:
        self.sensitive_names = set(sensitive_names)
        self.secret_values: set[str] = set()
        """Texts masked wherever they are shown: secret values, their encoded forms, and the
        values of sensitive variables."""
        self._references: dict[str, str] = {}
        """A secret's value (or a string field of a JSON secret) → its reference path."""
        self._sealed_masks: set[str] = set()
        """Encoded forms of secret values: masked in what is stored, too."""
        self._ordered: list[str] | None = None

    # -- learning what to hide ------------------------------------------------------------------

    def add_secret(self, value: Any, name: str | None = None) -> None:
        """Hide ``value`` from now on. With ``name`` (a secret of the procedure), stored state
        holds its reference instead; without, it is only masked where shown."""
        self._add(value, name, sealed=name is not None)

    def _add(self, value: Any, path: str | None, *, sealed: bool) -> None:
        if isinstance(value, str):
            if len(value) < _MIN_LENGTH:
                return
            self.secret_values.add(value)
            if sealed:
                if path is not None:
                    self._references.setdefault(value, path)
                else:  # a field whose name cannot be part of a reference: masked in state, too
                    self._sealed_masks.add(value)
                forms = _derived_forms(value)
                self.secret_values.update(forms)
                self._sealed_masks.update(forms)
            self._ordered = None
        elif isinstance(value, Mapping):
            for k, v in value.items():
                self._add(v, f"{path}.{k}" if path is not None and valid_segment(str(k)) else None, sealed=sealed)
        elif isinstance(value, list | tuple):
            for index, v in enumerate(value):
                self._add(v, f"{path}.{index}" if path is not None else None, sealed=sealed)

    def is_sensitive(self, name: str) -> bool:
        """A variable marked sensitive, or one whose name says it holds a secret."""
        return name in self.sensitive_names or looks_secret(name)

    def add_sensitive_values(self, variables: Mapping[str, Any] | None) -> None:
        """Mask the values of sensitive variables wherever they appear (a log line, a prompt)."""
        for name, value in (variables or {}).items():
            if self.is_sensitive(str(name)):
                self.add_secret(value)

    @property
    def knows_secrets(self) -> bool:
        """Whether any secret value of the procedure is known (sealing has work to do)."""
        return bool(self._references or self._sealed_masks)

    # -- what is shown ----------------------------------------------------------------------------

    def redact(self, value: Any) -> Any:
        """For events and answers: values of secret-looking keys and sensitive variables, and
        secret values, masked; references in their shown form."""
        return self._walk(value, 0)

    def mask(self, value: Any) -> Any:
        """Like :meth:`redact`, but keys are not looked at (a run's own variables and outputs)."""
        return _map_strings(value, self.mask_text)

    def mask_text(self, text: str) -> str:
        for secret in self._by_length():
            if secret in text:
                text = text.replace(secret, MASK)
        return _display_text(text)

    # -- what is stored -------------------------------------------------------------------------

    def seal(self, value: Any, nonce: str) -> Any:
        """For the run's state and stored results: a secret value becomes its reference (with
        the run's ``nonce``, so a later outgoing call can still send it); its encoded forms ``***``."""
        if not self.knows_secrets:
            return value
        return _map_strings(value, lambda text: self.seal_text(text, nonce))

    def seal_text(self, text: str, nonce: str) -> str:
        if not self.knows_secrets or len(text) < _MIN_LENGTH:
            return text
        for secret in self._by_length():
            if secret in text:
                path = self._references.get(secret)
                if path is not None:
                    text = text.replace(secret, reference(path, nonce))
                elif secret in self._sealed_masks:
                    text = text.replace(secret, MASK)
        return text

    def seal_cut_text(self, text: str, nonce: str) -> str:
        """:meth:`seal_text` for a text that may have been cut short (an error message quoting
        an answer's first characters): a secret value cut at its end is masked too."""
        text = self.seal_text(text, nonce)
        if not self._references or len(text) < _MIN_LENGTH:
            return text
        body = text.rstrip("'\")]}.… \n")  # a cut quote may be closed after the cut: 'abc…'
        tail = text[len(body):]
        for secret in self._references:
            for keep in range(min(len(secret) - 1, len(body)), _MIN_CUT - 1, -1):
                if body.endswith(secret[:keep]):
                    return body[:-keep] + MASK + tail
        return text

    def _by_length(self) -> list[str]:
        """Longest first, so a value that contains another is replaced whole."""
        if self._ordered is None:
            self._ordered = sorted(self.secret_values, key=len, reverse=True)
        return self._ordered

    def _walk(self, value: Any, depth: int) -> Any:
        if depth > _MAX_DEPTH:
            return value
        if isinstance(value, Mapping):
            out = {}
            for k, v in value.items():
                key = str(k)
                if key in self.sensitive_names or looks_secret(key):
                    out[k] = MASK if v is not None else None
                else:
                    out[k] = self._walk(v, depth + 1)
            return out
        if isinstance(value, list | tuple):
            return [self._walk(v, depth + 1) for v in value]
        if isinstance(value, str):
            return self.mask_text(value)
        return value
