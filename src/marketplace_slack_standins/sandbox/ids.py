"""Identifiers and timestamps in the shapes the vendor spec uses.

Ids come from the sandbox's seeded RNG, so the same seed and the same calls give the same ids.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime

_CUID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


class IdFactory:
    def __init__(self, rng: random.Random) -> None:
        self._rng = rng

    def cuid(self) -> str:
        """A cuid-shaped id: ``c`` and 24 lowercase base-36 characters."""
        return "c" + "".join(self._rng.choice(_CUID_ALPHABET) for _ in range(24))

    def uuid(self) -> str:
        """A version-4 UUID drawn from the seeded RNG (``uuid.uuid4`` would break determinism)."""
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))


def iso(when: datetime) -> str:
    """ISO-8601 in UTC with milliseconds and ``Z``, as the Marketplace writes timestamps."""
    when = when.astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return len(value) == 36
