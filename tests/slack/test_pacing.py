"""The paced sender, on virtual time: the stand-in Slack's own rate limiter answers it, on the same clock.

Nothing sleeps: the pacer's waits and the fake network's delays go through `VirtualTime`, which moves
its clock to the next wake-up only when nothing else can run.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, cast

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from marketplace_slack.infra.clock import FakeClock
from marketplace_slack.slack.directory import SlackDirectory
from marketplace_slack.slack.messenger import SlackMessenger
from marketplace_slack.slack.pacing import (
    LOOKUPS,
    POSTS,
    SUMMARY_EVERY,
    UPDATES,
    Pacer,
    Priority,
    Rate,
    TokenBucket,
    scaled,
)
from marketplace_slack.store.repository import Repository
from marketplace_slack_standins.fakeslack import FakeSlack
from marketplace_slack_standins.fakeslack.ratelimits import RateLimiter
from marketplace_slack_standins.fakeslack.workspace import SlackUser
from marketplace_slack_standins.stage import STEWARDS_CHANNEL, installed_as_declared, invite_everywhere

from .factories import pending_data_access

C1, C2 = "C0STEWARDS", "C0FINANCE"


class VirtualTime:
    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(seconds, 0.0), next(self._seq), future))
        await future

    async def run_until(self, done: Callable[[], bool], *, limit: float = 7200.0) -> None:
        while True:
            for _ in range(50):
                await asyncio.sleep(0)
            if done():
                return
            assert self._sleepers, "nothing left to wait for, and not done"
            when, _, future = heapq.heappop(self._sleepers)
            self.now = max(self.now, when)
            assert self.now <= limit, "took too long"
            if not future.done():
                future.set_result(None)

    async def gather(self, aws: Iterable[Awaitable[Any]]) -> list[Any]:
        tasks = [asyncio.ensure_future(a) for a in aws]
        await self.run_until(lambda: all(t.done() for t in tasks))
        return [t.result() for t in tasks]


@dataclass
class Call:
    at: float  # when Slack saw it
    method: str
    args: dict[str, Any]
    status: int
    ts: str | None = None


@dataclass
class FakeClient:
    """chat.postMessage and chat.update as Slack answers them, limits included."""

    time: VirtualTime
    limits: RateLimiter
    calls: list[Call] = field(default_factory=list)
    failures: deque[tuple[str, int | Exception, int]] = field(default_factory=deque)
    latencies: deque[float] = field(default_factory=deque)  # on the way there, one per call
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def chat_postMessage(self, **args: Any) -> dict[str, Any]:
        return await self._call("chat.postMessage", args)

    async def chat_update(self, **args: Any) -> dict[str, Any]:
        return await self._call("chat.update", args)

    def fail(self, method: str, outcome: int | Exception, *, retry_after: int = 1, times: int = 1) -> None:
        self.failures.extend([(method, outcome, retry_after)] * times)

    def posted(self, channel: str) -> list[Call]:
        return [
            c for c in self.calls if c.method == "chat.postMessage" and c.status == 200 and _in(c, channel)
        ]

    def refused(self) -> list[Call]:
        return [c for c in self.calls if c.status == 429]

    async def _call(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if self.latencies:
            await self.time.sleep(self.latencies.popleft())
        await asyncio.sleep(0)
        if self.failures and self.failures[0][0] == method:
            _, outcome, retry_after = self.failures.popleft()
            if isinstance(outcome, Exception):
                self.calls.append(Call(self.time.now, method, args, 0))
                raise outcome
            self.calls.append(Call(self.time.now, method, args, outcome))
            error = "ratelimited" if outcome == 429 else "internal_error"
            raise SlackApiError(error, _response(outcome, {"ok": False, "error": error}, retry_after))
        retry_after = self.limits.retry_after(method, args.get("channel"))
        if retry_after is not None:
            self.calls.append(Call(self.time.now, method, args, 429))
            raise SlackApiError(
                "ratelimited", _response(429, {"ok": False, "error": "ratelimited"}, retry_after)
            )
        ts = args.get("ts") or f"{1700000000 + next(self._ts)}.000100"
        self.calls.append(Call(self.time.now, method, args, 200, ts))
        return {"ok": True, "channel": args.get("channel"), "ts": ts}


def _in(call: Call, channel: str) -> bool:
    return bool(call.args.get("channel") == channel)


def _response(status: int, body: dict[str, Any], retry_after: int) -> AsyncSlackResponse:
    headers = {"Retry-After": str(retry_after)} if status == 429 else {}
    return AsyncSlackResponse(
        client=None, http_verb="POST", api_url="", req_args={}, data=body, headers=headers, status_code=status
    )


@pytest.fixture
def time() -> VirtualTime:
    return VirtualTime()


@pytest.fixture
def client(time: VirtualTime) -> FakeClient:
    return FakeClient(time, RateLimiter(monotonic=time.monotonic))


def pacer_for(client: FakeClient, time: VirtualTime, **options: Any) -> Pacer:
    return Pacer(
        cast(AsyncWebClient, client), monotonic=time.monotonic, sleep=time.sleep, backlog=None, **options
    )


def card(pacer: Pacer, channel: str, n: int) -> Awaitable[Any]:
    return pacer.post_message(Priority.CARD, channel=channel, text=f"card {n}")


# --- the bucket -------------------------------------------------------------------------------------


def test_the_bucket_allows_a_burst_then_one_a_second() -> None:
    bucket = TokenBucket.full(Rate(per_second=1.0, burst=3), now=0.0)
    for _ in range(3):
        assert bucket.wait(0.0) == 0
        bucket.spend(0.0)
    assert bucket.wait(0.0) == pytest.approx(1.0, abs=0.002)
    assert bucket.wait(0.4) == pytest.approx(0.6, abs=0.002)
    bucket.spend(1.0)
    bucket.empty(1.0)  # a 429 says there is nothing left
    assert bucket.wait(1.0) == pytest.approx(1.0, abs=0.002)
    assert bucket.is_full(100.0)


# --- pacing -----------------------------------------------------------------------------------------


async def test_a_burst_to_one_channel_is_all_posted_in_order_without_one_429(
    client: FakeClient, time: VirtualTime
) -> None:
    pacer = pacer_for(client, time)

    results = await time.gather(card(pacer, C1, n) for n in range(30))

    assert len({r["ts"] for r in results}) == 30  # each caller gets its own card's ts
    assert [c.args["text"] for c in client.posted(C1)] == [f"card {n}" for n in range(30)]
    assert client.refused() == []
    # Five at once, then about one a second.
    assert 24 <= time.now <= 26


async def test_a_slow_first_call_does_not_make_the_next_ones_too_early(
    client: FakeClient, time: VirtualTime
) -> None:
    # Slack counts a call when it arrives; the pacer counts it when the answer is back, never earlier.
    client.latencies.extend([0.8, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.3, 0.0, 0.0])
    pacer = pacer_for(client, time)

    await time.gather(card(pacer, C1, n) for n in range(12))

    assert client.refused() == []
    assert len(client.posted(C1)) == 12


async def test_one_channels_backlog_never_delays_another(client: FakeClient, time: VirtualTime) -> None:
    pacer = pacer_for(client, time)
    busy = [asyncio.ensure_future(card(pacer, C1, n)) for n in range(20)]
    other = asyncio.ensure_future(card(pacer, C2, 0))

    await time.run_until(other.done)

    assert time.now < 1  # C2's card went while C1 still had fourteen waiting
    assert sum(t.done() for t in busy) < 10
    await time.run_until(lambda: all(t.done() for t in busy))


async def test_decisions_overtake_queued_cards_and_cards_overtake_notices(
    client: FakeClient, time: VirtualTime
) -> None:
    pacer = pacer_for(client, time)
    cards = [asyncio.ensure_future(card(pacer, C1, n)) for n in range(10)]
    reminder = asyncio.ensure_future(pacer.post_message(Priority.NOTICE, channel=C1, text="reminder"))
    await time.run_until(lambda: sum(t.done() for t in cards) >= 6)
    reply = asyncio.ensure_future(pacer.post_message(Priority.DECISION, channel=C1, text="approved"))

    await time.gather([*cards, reminder, reply])

    said = [c.args["text"] for c in client.posted(C1)]
    assert said.index("approved") == 6  # straight after the card in flight
    assert said[-1] == "reminder"
    assert client.refused() == []


async def test_a_card_update_waits_for_no_new_card(client: FakeClient, time: VirtualTime) -> None:
    pacer = pacer_for(client, time)
    cards = [asyncio.ensure_future(card(pacer, C1, n)) for n in range(15)]
    await time.run_until(lambda: cards[0].done())
    update = asyncio.ensure_future(
        pacer.update_message(Priority.DECISION, channel=C1, ts=cards[0].result()["ts"], text="approved")
    )

    await time.run_until(update.done)

    assert time.now < 1 and not cards[-1].done()
    await time.gather(cards)


async def test_a_429_is_waited_out_and_the_same_call_sent_again_as_often_as_it_takes(
    client: FakeClient, time: VirtualTime
) -> None:
    client.fail("chat.postMessage", 429, retry_after=3, times=10)  # far past slack-sdk's three tries
    pacer = pacer_for(client, time)

    (posted,) = await time.gather([card(pacer, C1, 1)])

    assert posted["ok"]
    attempts = [c for c in client.calls if c.method == "chat.postMessage"]
    assert [c.status for c in attempts] == [429] * 10 + [200]
    assert {c.args["text"] for c in attempts} == {"card 1"}
    assert time.now == pytest.approx(30)  # Retry-After, each time
    assert len(client.posted(C1)) == 1


async def test_a_429_on_updates_is_waited_out_too(client: FakeClient, time: VirtualTime) -> None:
    client.fail("chat.update", 429, retry_after=2, times=4)
    pacer = pacer_for(client, time)

    (updated,) = await time.gather([pacer.update_message(Priority.DECISION, channel=C1, ts="1.2", text="x")])

    assert updated["ok"] and time.now == pytest.approx(8)


@pytest.mark.parametrize("failure", [500, 503, TimeoutError(), ConnectionResetError()])
async def test_a_post_that_may_have_landed_is_never_sent_again(
    client: FakeClient, time: VirtualTime, failure: int | Exception
) -> None:
    client.fail("chat.postMessage", failure)
    pacer = pacer_for(client, time)
    first = asyncio.ensure_future(card(pacer, C1, 1))
    second = asyncio.ensure_future(card(pacer, C1, 2))

    await time.run_until(lambda: first.done() and second.done())

    with pytest.raises(SlackApiError if isinstance(failure, int) else type(failure)):
        first.result()
    assert second.result()["ok"]  # the lane goes on
    assert [c.args["text"] for c in client.calls] == ["card 1", "card 2"]  # card 1 once


async def test_a_caller_who_stops_waiting_takes_its_call_back(client: FakeClient, time: VirtualTime) -> None:
    pacer = pacer_for(client, time)
    cards = [asyncio.ensure_future(card(pacer, C1, n)) for n in range(8)]
    await asyncio.sleep(0)
    cards[7].cancel()

    await time.run_until(lambda: all(t.done() for t in cards))

    assert [c.args["text"] for c in client.posted(C1)] == [f"card {n}" for n in range(7)]
    await pacer.drain()


# --- the backlog summary ----------------------------------------------------------------------------


async def test_past_the_backlog_one_summary_counts_down_and_ends_saying_all_are_posted(
    client: FakeClient, time: VirtualTime
) -> None:
    pacer = Pacer(
        cast(AsyncWebClient, client),
        monotonic=time.monotonic,
        sleep=time.sleep,
        backlog=10,
        summary_every=5.0,
    )

    results = await time.gather(card(pacer, C1, n) for n in range(40))
    await time.run_until(lambda: pacer.waiting(C1) == 0 and _idle(pacer))

    posts = client.posted(C1)
    cards = [c for c in posts if c.args["text"].startswith("card")]
    summaries = [c for c in posts if not c.args["text"].startswith("card")]
    assert [c.args["text"] for c in cards] == [f"card {n}" for n in range(40)]  # 0 lost, 0 doubled
    assert len({r["ts"] for r in results}) == 40
    assert len(summaries) == 1
    assert summaries[0].args["text"].endswith("more requests are queued; see the digest.")
    assert posts.index(summaries[0]) < 12  # as soon as the backlog passed 10, ahead of the queued cards
    updates = [c for c in client.calls if c.method == "chat.update" and c.status == 200]
    counts = [_count(c.args["text"]) for c in updates]
    assert counts == sorted(counts, reverse=True) and len(updates) >= 3
    assert updates[-1].args["text"] == "All queued requests are posted."
    assert {c.args["ts"] for c in updates} == {summaries[0].ts}
    gaps = [b.at - a.at for a, b in itertools.pairwise(updates[:-1])]
    assert all(gap >= 5.0 for gap in gaps)  # at most every `summary_every`, not once per card
    assert client.refused() == []


async def test_within_the_backlog_there_is_no_summary(client: FakeClient, time: VirtualTime) -> None:
    pacer = Pacer(cast(AsyncWebClient, client), monotonic=time.monotonic, sleep=time.sleep, backlog=10)

    await time.gather(card(pacer, C1, n) for n in range(10))

    assert all(c.args["text"].startswith("card") for c in client.calls)


async def test_a_summary_that_cannot_be_posted_costs_no_card(client: FakeClient, time: VirtualTime) -> None:
    pacer = Pacer(cast(AsyncWebClient, client), monotonic=time.monotonic, sleep=time.sleep, backlog=3)
    client.fail("chat.postMessage", 500)  # the summary goes first, and meets it

    results = await time.gather(card(pacer, C1, n) for n in range(8))

    assert all(r["ok"] for r in results)
    assert [c.args["text"] for c in client.calls][1:] == [f"card {n}" for n in range(8)]  # tried once


def _idle(pacer: Pacer) -> bool:
    return pacer._idle.is_set()


def _count(text: str) -> int:
    return 0 if text.startswith("All") else int(text.split()[0].replace(",", ""))


async def test_a_thousand_new_cards_to_one_channel_are_a_thousand_cards_and_one_summary(
    client: FakeClient, time: VirtualTime
) -> None:
    pacer = Pacer(cast(AsyncWebClient, client), monotonic=time.monotonic, sleep=time.sleep, backlog=50)

    results = await time.gather(card(pacer, C1, n) for n in range(1000))
    await time.run_until(lambda: _idle(pacer))

    posts = client.posted(C1)
    assert [c.args["text"] for c in posts if c.args["text"].startswith("card")] == [
        f"card {n}" for n in range(1000)
    ]
    assert len({r["ts"] for r in results}) == 1000  # 0 lost, 0 doubled, each caller its own ts
    assert [c.args["text"] for c in posts if not c.args["text"].startswith("card")] == [
        "1,000 more requests are queued; see the digest."
    ]
    updates = [c for c in client.calls if c.method == "chat.update" and c.status == 200]
    assert updates[-1].args["text"] == "All queued requests are posted."
    assert len(updates) <= 1000 / SUMMARY_EVERY + 2  # kept up to date, not once per card
    assert client.refused() == []
    assert 995 <= time.now <= 1010  # Slack's pace: five at once, then one a second


# --- over loopback HTTP, against the stand-in Slack's own limiter -----------------------------------


class Ticker:
    """One clock for the stand-in and the pacer; a wait moves it on at once."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)
        await asyncio.sleep(0)


async def test_the_messengers_cards_meet_no_429_from_the_stand_in_slack(clock: FakeClock) -> None:
    ticker = Ticker()
    async with FakeSlack(clock=clock, install=installed_as_declared(), monotonic=ticker.monotonic) as slack:
        invite_everywhere(slack)
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.base_url, retry_handlers=[])
        pacer = Pacer(client, monotonic=ticker.monotonic, sleep=ticker.sleep, backlog=None)
        messenger = SlackMessenger(client, clock, pacer)
        slack.fail_next("chat.postMessage", retry_after=2, times=4)  # past slack-sdk's three tries

        refs = await asyncio.gather(
            *(messenger.post_request(STEWARDS_CHANNEL, pending_data_access()) for _ in range(40))
        )

        posts = slack.calls_to("chat.postMessage")
        assert [c.status for c in posts] == [429] * 4 + [200] * 40  # only the four it was told to refuse
        assert len({ref.ts for ref in refs}) == 40
        assert len(slack.messages(STEWARDS_CHANNEL)) == 40
        assert slack.violations == []


# --- a burst at a scaled pace, and the other Tier 3 calls a burst makes -----------------------------


async def test_at_a_scaled_pace_a_thousand_cards_meet_no_429_and_keep_the_pace(time: VirtualTime) -> None:
    client = FakeClient(time, RateLimiter(monotonic=time.monotonic, scale=20))
    pacer = pacer_for(client, time, posts=scaled(POSTS, 20), updates=scaled(UPDATES, 20))

    results = await time.gather(card(pacer, C1, n) for n in range(1000))

    assert [c.args["text"] for c in client.posted(C1)] == [f"card {n}" for n in range(1000)]
    assert len({r["ts"] for r in results}) == 1000
    assert client.refused() == []
    assert time.now <= 1.2 * 1000 / 20  # within the burst's goal: 1.2 x the pacing limit


async def test_a_burst_of_lookups_is_paced_to_its_tier_in_order_without_one_429(
    client: FakeClient, time: VirtualTime
) -> None:
    pacer = pacer_for(client, time)

    def lookup(n: int) -> Awaitable[Any]:
        return pacer.call(
            "users.lookupByEmail", LOOKUPS, lambda: client._call("users.lookupByEmail", {"email": f"p{n}@x"})
        )

    results = await time.gather(lookup(n) for n in range(200))

    answered = [c for c in client.calls if c.method == "users.lookupByEmail"]
    assert [c.args["email"] for c in answered] == [f"p{n}@x" for n in range(200)]  # first come first
    assert len(results) == 200
    assert client.refused() == []
    assert time.now <= (200 - LOOKUPS.burst) / LOOKUPS.per_second + 1  # Slack's 50 a minute, no slower


async def test_a_lookup_refused_with_429s_is_sent_again_until_answered(
    client: FakeClient, time: VirtualTime
) -> None:
    pacer = pacer_for(client, time)
    client.fail("users.lookupByEmail", 429, retry_after=3, times=5)

    result = await time.gather(
        [pacer.call("users.lookupByEmail", LOOKUPS, lambda: client._call("users.lookupByEmail", {}))]
    )

    assert [c.status for c in client.calls] == [429] * 5 + [200]  # never given up
    assert result[0]["ok"]
    assert time.now >= 5 * 3  # each Retry-After waited out


async def test_the_directory_looks_a_burst_of_new_people_up_without_one_429(
    clock: FakeClock, store: Repository
) -> None:
    ticker = Ticker()
    people = [SlackUser(f"UB{n:05d}", f"burst{n}", f"Burst {n}", f"burst{n}@example.com") for n in range(80)]
    async with FakeSlack(
        clock=clock, install=installed_as_declared(), monotonic=ticker.monotonic, users=people
    ) as slack:
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.base_url, retry_handlers=[])
        pacer = Pacer(client, monotonic=ticker.monotonic, sleep=ticker.sleep, backlog=None)
        directory = SlackDirectory(client, store, clock, pacer=pacer)

        found = await asyncio.gather(*(directory.slack_id_for_email(p.email) for p in people))

        assert found == [p.id for p in people]  # each person named on their card, none given up
        lookups = slack.calls_to("users.lookupByEmail")
        assert [c.status for c in lookups] == [200] * 80
        again = await directory.slack_id_for_email("BURST7@example.com")  # cached, any case
        assert again == "UB00007"
        assert len(slack.calls_to("users.lookupByEmail")) == 80
