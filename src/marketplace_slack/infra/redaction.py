"""What must never reach a log: the secrets the app holds or is handed, anything shaped like a token,
and the bodies of Slack's payloads (a link form carries a steward's personal access token).

`Redactor.text` is the one rule for a string and `Redactor.value` applies it through a structure; the
log plumbing (`logs.py`) passes every record of every logger, and every structlog event, through it.
Secrets are known by value (registered when they are read: settings at start-up, a pasted token the
moment it is parsed, a stored one when it is decrypted) and by shape (Slack's token prefixes, `Bearer`,
a `token=` or `"secret":` pair), and a payload is known by its form: form-encoded fields, `payload=`, or a
mapping long enough to be a request body or holding what a person typed.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any, Final
from urllib.parse import quote, quote_plus

from pydantic import SecretStr

REDACTED: Final = "[redacted]"
WITHHELD: Final = "[withheld]"

# Shorter values would redact ordinary words; no real secret is this short.
MIN_SECRET_LENGTH: Final = 8
# Pasted and decrypted tokens are kept for redaction, but not without bound: past this many the
# oldest go (each is one more alternative in the pattern every log line is searched with).
MAX_HANDED_SECRETS: Final = 1000
# A mapping at least this long is a request body or an API answer, not a diagnostic.
LONG_MAPPING: Final = 120

# A key that names a secret, as in `token=…`, `"client_secret": "…"`, `X-Slack-Signature: …`.
SECRET_KEY_WORDS: Final = (
    "token",
    "secret",
    "password",
    "passwd",
    "authorization",
    "signature",
    "ticket",
    "api_key",
    "apikey",
    "signing_key",
    "signingkey",
    "private_key",
    "encryption_key",
)
# What a person typed lives under these keys in a payload; a mapping holding one is withheld whole.
_INPUT_KEYS: Final = re.compile(r"""["'](?:values?|state|text|submission|payload|token)["']""")

_SLACK_TOKEN: Final = re.compile(r"\bx(?:ox[a-z]|app)[-.][A-Za-z0-9._-]+")
_BEARER: Final = re.compile(r"(?i)\b(bearer)(\s+)(?!\[redacted\])[A-Za-z0-9._~+/=-]{6,}")
_KEYED: Final = re.compile(
    r"""(?ix)
    (["']?[\w.-]*(?:"""
    + "|".join(re.escape(word).replace("_", "[_-]?") for word in SECRET_KEY_WORDS)
    + r""")[\w-]*["']?\s*[:=]\s*)
    (b?"[^"]*"|b?'[^']*'|[^\s&,;)}\]'"]+)
    """
)
# Form-encoded fields (`a=1&b=2…`) as a body, not as a URL's query (which follows `?`).
_FORM: Final = re.compile(r"(?<![?&\w.%+-])(?:[\w.%-]+=[^&\s'\"]*&)+[\w.%-]+=[^&\s'\")]*")
_PAYLOAD_FIELD: Final = re.compile(r"(?i)\b(payload=)[^&\s'\")]+")


class Redactor:
    """Redacts known secret values, token-shaped strings and payload bodies. Safe across threads:
    registering swaps in a new pattern, and a record being redacted uses the one it started with."""

    def __init__(self, *, max_handed: int = MAX_HANDED_SECRETS) -> None:
        self._lock = threading.Lock()
        self._max_handed = max_handed
        self._kept: set[str] = set()  # the app's own secrets, in all their forms: kept for good
        self._handed: dict[str, list[str]] = {}  # pasted or decrypted tokens (and forms), oldest first
        self._pattern: re.Pattern[str] | None = None

    def keep(self, *values: str | SecretStr | None, handed: bool = False) -> None:
        """Redact these values (and their URL- and JSON-escaped forms) from now on. `handed`: a
        token a person gave, of which only the latest `max_handed` are kept."""
        with self._lock:
            changed = False
            for value in values:
                forms = _forms(value)
                if not forms:
                    continue
                if not handed:
                    changed |= not self._kept.issuperset(forms)
                    self._kept.update(forms)
                    continue
                changed |= self._handed.pop(forms[0], None) is None
                self._handed[forms[0]] = forms  # a token seen again is the newest again
            while len(self._handed) > self._max_handed:
                del self._handed[next(iter(self._handed))]
                changed = True
            if changed:
                every = self._kept.union(*self._handed.values())
                # Longest first, so a secret that contains another is redacted whole.
                self._pattern = re.compile("|".join(map(re.escape, sorted(every, key=len, reverse=True))))

    def text(self, text: str) -> str:
        pattern = self._pattern
        if pattern is not None:
            text = pattern.sub(REDACTED, text)
        text = _PAYLOAD_FIELD.sub(rf"\g<1>{WITHHELD}", text)
        text = _FORM.sub(WITHHELD, text)
        text = _withhold_mappings(text)
        text = _BEARER.sub(rf"\g<1>\g<2>{REDACTED}", text)
        text = _SLACK_TOKEN.sub(REDACTED, text)
        return _KEYED.sub(rf"\g<1>{REDACTED}", text)

    def value(self, value: Any) -> Any:
        """`value` with every string in it redacted; a mapping's entry under a secret's name goes whole.
        What is not plain data is redacted as its `repr`, which is what a renderer would print."""
        if value is None or isinstance(value, bool | int | float):
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, SecretStr):
            return REDACTED
        if isinstance(value, Mapping):
            return {
                key: REDACTED if names_secret(str(key)) else self.value(item) for key, item in value.items()
            }
        if isinstance(value, list | tuple | set | frozenset):
            return [self.value(item) for item in value]
        return self.text(repr(value))


def names_secret(key: str) -> bool:
    lowered = key.lower().replace("-", "_")
    return any(word in lowered or word in lowered.replace("_", "") for word in SECRET_KEY_WORDS)


def _forms(value: str | SecretStr | None) -> list[str]:
    if value is None:
        return []
    plain = value.get_secret_value() if isinstance(value, SecretStr) else value
    plain = plain.strip()
    if len(plain) < MIN_SECRET_LENGTH:
        return []
    # As it appears in a form body, a URL, a JSON document and a repr of one.
    forms = {quote(plain, safe=""), quote_plus(plain), json.dumps(plain)[1:-1]}
    forms |= {json.dumps(form)[1:-1] for form in list(forms)}
    return [plain, *sorted(forms - {plain})]


def _withhold_mappings(text: str) -> str:
    """Each outermost `{…}` that is long or holds typed input, replaced by `WITHHELD`; an unclosed
    one (a truncated body) runs to the end of its line (not of a traceback that quotes a `{`)."""
    if "{" not in text:
        return text
    out: list[str] = []
    position = 0
    while (start := text.find("{", position)) != -1:
        end = _closing(text, start)
        span = text[start:end]
        out.append(text[position:start])
        out.append(WITHHELD if len(span) >= LONG_MAPPING or _INPUT_KEYS.search(span) else span)
        position = end
    out.append(text[position:])
    return "".join(out)


def _closing(text: str, start: int) -> int:
    """The index just past the brace closing the one at `start` (quotes and escapes respected), or
    the end of its line when it is never closed."""
    depth = 0
    quote_char: str | None = None
    index = start
    while index < len(text):
        char = text[index]
        if quote_char is not None:
            if char == "\\":
                index += 1
            elif char == quote_char:
                quote_char = None
        elif char in "\"'":
            quote_char = char
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return index + 1
        index += 1
    line_end = text.find("\n", start)
    return len(text) if line_end == -1 else line_end


_shared: Redactor | None = None
_shared_lock = threading.Lock()


def shared() -> Redactor:
    """The process's redactor: logging is process-wide, so is what it must not print."""
    global _shared  # created on first use, never at import
    with _shared_lock:
        if _shared is None:
            _shared = Redactor()
        return _shared


def keep_secrets(values: Iterable[str | SecretStr | None]) -> None:
    """The app's own secrets (settings): redacted from every log record from now on."""
    shared().keep(*values)


def keep_handed_secret(value: str | SecretStr | None) -> None:
    """A token a person pasted or one read back from the store: redacted from now on."""
    shared().keep(value, handed=True)
