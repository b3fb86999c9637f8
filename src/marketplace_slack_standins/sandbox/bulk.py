"""Many pending requests at once, straight into the sandbox's state: the queue of a large account, for
the scale tests and benchmarks.

Made by the same rules as a request over the API (`access.open_request`: the product's current
form and review flow, answers the form accepts), by requesters who are new to the account, so the
one-open-request-per-person rule holds without scanning every request for each new one (which is
what makes 10,000 requests through `request_access` quadratic). Nothing is emitted: these requests
were there before anyone was listening, as the seeded world's are.
"""

from __future__ import annotations

import copy
import math
import random
from datetime import datetime, timedelta

from marketplace_slack_standins.sandbox import access
from marketplace_slack_standins.sandbox.model import AccessRequest, User
from marketplace_slack_standins.sandbox.state import SandboxState

BULK_PREFIX = "bulk"  # the usernames of the requesters made here: bulk00001, ...


def seed_pending(
    state: SandboxState,
    count: int,
    *,
    now: datetime | None = None,
    spread: timedelta = timedelta(days=30),
    seed: int = 12,
) -> list[AccessRequest]:
    """`count` new PENDING data-access requests, created (and last updated) over the `spread` before
    `now`, oldest first, one per new requester and product, modelled on the world's pending ones
    (their products and answers; each new requester has the attributes of the model's)."""
    now = now or state.now()
    rng = random.Random(seed)
    models = [r for r in state.requests.values() if r.status == "PENDING" and r.type == "DATA_ACCESS"]
    if not models:
        raise ValueError("the world has no pending data-access request to model new ones on")
    by_product = {m.product_id: m for m in models}  # one model a product: a requester asks each once
    people = math.ceil(count / len(by_product))
    first_id = max(u.id for u in state.users.values()) + 1
    made: list[AccessRequest] = []
    stamps = sorted(now - spread * rng.random() for _ in range(count))
    for n in range(people):
        for model in by_product.values():
            if len(made) == count:
                return made
            user = _requester(state, model.user, first_id + n)
            product = state.products[model.product_id]
            version = state.current_form(product, "DATA_ACCESS")
            form = copy.deepcopy(model.form)
            access.check_answers(version, form)
            request = access.open_request(
                state,
                user,
                product,
                user,
                version,
                form,
                kind="DATA_ACCESS",
                columns=[],
                now=stamps[len(made)],
            )
            if request.status != "PENDING":  # the flow settled it at once: not part of a queue
                del state.requests[request.id]
                continue
            made.append(request)
    return made


def _requester(state: SandboxState, like: User, number: int) -> User:
    username = f"{BULK_PREFIX}{number:05d}"
    found = state.users.get(username)
    if found is not None:
        return found
    user = User(
        id=number,
        username=username,
        name=f"Bulk Requester {number}",
        email=f"{username}@example.com",
        global_user_id=state.ids.uuid(),
        created_at=like.created_at,
        attributes=copy.deepcopy(like.attributes),
        group_ids=set(like.group_ids),
    )
    state.users[username] = user
    return user
