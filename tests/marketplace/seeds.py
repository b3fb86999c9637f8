"""The vendor API reference's example bodies, per operation.

`data/seed_examples.json` is extracted from the reference text by `extract()`; `test_models_spec.py`
re-extracts and compares, so the committed examples cannot drift from it. The reference is read from the
shared reference material beside the repository (`../shared/seeds/`) when it is there, and otherwise
from the copy committed as `tests/data/marketplace-api-reference.txt`, so the comparison runs on every
clone; the committed copy must equal the shared one wherever both exist.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EXAMPLES = Path(__file__).parent / "data" / "seed_examples.json"
_REPOSITORY = Path(__file__).resolve().parents[2]
SHARED_REFERENCE = _REPOSITORY.parent / "shared" / "seeds" / "000_681f81b01d217b0c.txt"
COMMITTED_REFERENCE = _REPOSITORY / "tests" / "data" / "marketplace-api-reference.txt"

_HTTP_LINE = re.compile(r"^(GET|PUT|POST|DELETE|PATCH) /marketplace(/\S+?)(?:\?\S*)? HTTP/1\.1$")
_JSON_START = re.compile(r"(?m)^[\[{]")


@dataclass(frozen=True)
class Example:
    method: str
    path: str
    request: Any  # None when the operation takes no body
    response: Any  # None when the operation answers without a body
    has_request: bool
    has_response: bool


def reference_text() -> str:
    """The API reference's text: the shared original when present, else the committed copy.

    Raises rather than letting the comparison skip: a check that silently skips guards nothing.
    """
    committed = COMMITTED_REFERENCE.read_text() if COMMITTED_REFERENCE.exists() else None
    if SHARED_REFERENCE.exists():
        shared = SHARED_REFERENCE.read_text()
        if committed is not None and committed != shared:
            raise AssertionError(f"{COMMITTED_REFERENCE} differs from {SHARED_REFERENCE}: copy it again")
        return shared
    if committed is None:
        raise FileNotFoundError(
            f"the API reference is missing: neither {SHARED_REFERENCE} nor {COMMITTED_REFERENCE}"
        )
    return committed


def extract(text: str) -> list[dict[str, Any]]:
    """Each example request line of the reference, with the JSON bodies printed under it.

    The reference prints, per operation, the HTTP request (headers, then the body if there is a
    Content-Type) followed by the response body; everything up to the next request line belongs to it.
    """
    lines = text.split("\n")
    starts = [(i, m) for i, line in enumerate(lines) if (m := _HTTP_LINE.match(line))]
    decoder = json.JSONDecoder()
    out = []
    for n, (i, match) in enumerate(starts):
        end = starts[n + 1][0] if n + 1 < len(starts) else len(lines)
        segment_lines = lines[i + 1 : end]
        has_body = any(line.startswith("Content-Type:") for line in segment_lines[:6])
        segment = "\n".join(segment_lines)
        blocks, pos = [], 0
        for start in _JSON_START.finditer(segment):
            if start.start() < pos:
                continue
            value, pos = decoder.raw_decode(segment, start.start())
            blocks.append(value)
        request = blocks.pop(0) if has_body and blocks else None
        out.append(
            {
                "method": match.group(1),
                "path": match.group(2),
                "request": request,
                "responses": blocks,
                "hasRequest": has_body,
            }
        )
    return out


def load() -> list[Example]:
    raw = json.loads(EXAMPLES.read_text())
    return [
        Example(
            method=item["method"],
            path=item["path"],
            request=item["request"],
            response=item["responses"][0] if item["responses"] else None,
            has_request=item["hasRequest"],
            has_response=bool(item["responses"]),
        )
        for item in raw
    ]
