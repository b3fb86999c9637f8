"""Golden files: rendered JSON compared to reviewed files in tests/slack/golden/.

Run with `UPDATE_GOLDEN=1` to rewrite them after an intended change, then read the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

GOLDEN_DIR = Path(__file__).parent / "golden"


def dumps(payload: Any) -> str:
    # ensure_ascii=False keeps emoji and names readable in review; the trailing newline keeps diffs clean.
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"


def assert_golden(name: str, payload: Any) -> None:
    path = GOLDEN_DIR / f"{name}.json"
    rendered = dumps(payload)
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(rendered, encoding="utf-8")
        return
    assert path.exists(), f"{path} is missing; run with UPDATE_GOLDEN=1 to create it, then review it"
    expected = path.read_text(encoding="utf-8")
    assert json.loads(rendered) == json.loads(expected), f"{path.name} differs; if intended, UPDATE_GOLDEN=1"
    assert rendered == expected, f"{path.name} differs only in formatting; regenerate with UPDATE_GOLDEN=1"
