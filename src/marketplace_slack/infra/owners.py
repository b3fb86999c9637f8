"""Who holds a claim: this process's name in the store, and whether a holder was this instance earlier.

A claim (a card being posted, a decision being sent, a message being delivered) names its owner as
`instance/incarnation`. The instance is stable across restarts (a host or pod name, `MPSLACK_INSTANCE`);
the incarnation is new at every start. A claim held by the same instance under another incarnation was
left by this very replica before it crashed or was killed: nobody is working on it, so it is resolved at
once (by looking at what really happened) instead of waiting out its lease, which exists for claims of
other replicas that may still be alive.
"""

from __future__ import annotations

import uuid

SEPARATOR = "/"


def new_owner(instance: str) -> str:
    """A fresh owner name for this start of `instance`."""
    if not instance or SEPARATOR in instance:
        raise ValueError(f"an instance name must be non-empty and contain no {SEPARATOR!r}")
    return f"{instance}{SEPARATOR}{uuid.uuid4().hex[:12]}"


def instance_of(owner: str) -> str:
    return owner.rsplit(SEPARATOR, 1)[0]


def earlier_life(holder: str | None, me: str) -> bool:
    """True when `holder` is this instance under an earlier incarnation (so it is certainly not working)."""
    if not holder or holder == me or SEPARATOR not in holder or SEPARATOR not in me:
        return False
    return instance_of(holder) == instance_of(me)
