"""The fault proxy makes the ambiguous failures on the wire: the work done upstream, the answer lost."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import httpx
import pytest
from aiohttp import web
from slack_sdk.web.async_client import AsyncWebClient

from marketplace_slack.infra.clock import FakeClock
from marketplace_slack_standins.fakeslack import DEFAULT_CHANNELS, FakeSlack, Install
from marketplace_slack_standins.fakeslack.install import DEFAULT_SCOPES
from marketplace_slack_standins.faultproxy import Fault, FaultProxy


class Counter:
    """An upstream that counts the work it did."""

    def __init__(self) -> None:
        self.done: list[str] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.done.append(f"{request.method} {request.path_qs} {(await request.read()).decode()}")
        return web.json_response({"ok": True, "n": len(self.done)}, headers={"X-Upstream": "yes"})


@pytest.fixture
async def upstream() -> AsyncIterator[tuple[Counter, str]]:
    counter = Counter()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", counter.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    yield counter, f"http://{host}:{port}"
    await runner.cleanup()


@pytest.fixture
async def proxy(upstream: tuple[Counter, str]) -> AsyncIterator[FaultProxy]:
    fault_proxy = FaultProxy(upstream[1])
    await fault_proxy.start()
    yield fault_proxy
    await fault_proxy.stop()


async def test_without_rules_it_forwards_method_path_body_and_answer(
    upstream: tuple[Counter, str], proxy: FaultProxy
) -> None:
    counter, _ = upstream
    async with httpx.AsyncClient(base_url=str(proxy.url)) as http:
        answer = await http.put("/api/approval-record/r1?x=1", content=b"body")
    assert answer.status_code == 200
    assert answer.json() == {"ok": True, "n": 1}
    assert answer.headers["X-Upstream"] == "yes"
    assert counter.done == ["PUT /api/approval-record/r1?x=1 body"]


async def test_drop_after_does_the_work_and_loses_the_answer(
    upstream: tuple[Counter, str], proxy: FaultProxy
) -> None:
    counter, _ = upstream
    rule = proxy.fault(Fault.DROP_AFTER, method="PUT", path=r"approval-record")
    async with httpx.AsyncClient(base_url=str(proxy.url)) as http:
        with pytest.raises(httpx.RemoteProtocolError):
            await http.put("/api/approval-record/r1", content=b"approve")
        await rule.wait()
        again = await http.put("/api/approval-record/r1", content=b"approve")  # the rule applied once
    assert again.json() == {"ok": True, "n": 2}
    assert len(counter.done) == 2
    assert rule.fired == 1


async def test_delay_after_answers_only_after_the_client_gave_up(
    upstream: tuple[Counter, str], proxy: FaultProxy
) -> None:
    counter, _ = upstream
    rule = proxy.fault(Fault.DELAY_AFTER, path=r"/slow", delay=60)
    async with httpx.AsyncClient(base_url=str(proxy.url), timeout=0.2) as http:
        with pytest.raises(httpx.ReadTimeout):
            await http.get("/slow")
    await rule.wait()
    assert len(counter.done) == 1


async def test_status_after_reports_a_gateway_error_for_work_that_was_done(
    upstream: tuple[Counter, str], proxy: FaultProxy
) -> None:
    counter, _ = upstream
    rule = proxy.fault(Fault.STATUS_AFTER, path=r"/x", status=502, times=2)
    async with httpx.AsyncClient(base_url=str(proxy.url)) as http:
        first = await http.post("/x")
        second = await http.post("/x")
        third = await http.post("/x")
    await rule.wait()
    assert [first.status_code, second.status_code, third.status_code] == [502, 502, 200]
    assert len(counter.done) == 3


async def test_clean_failures_never_reach_upstream(upstream: tuple[Counter, str], proxy: FaultProxy) -> None:
    counter, _ = upstream
    proxy.fault(Fault.RESET_BEFORE, path=r"/a")
    proxy.fault(Fault.STATUS_BEFORE, path=r"/b", status=503)
    async with httpx.AsyncClient(base_url=str(proxy.url)) as http:
        with pytest.raises(httpx.RemoteProtocolError):
            await http.get("/a")
        refused = await http.get("/b")
    assert refused.status_code == 503
    assert counter.done == []


async def test_a_stalled_request_never_reaches_upstream(
    upstream: tuple[Counter, str], proxy: FaultProxy
) -> None:
    counter, _ = upstream
    rule = proxy.fault(Fault.STALL_BEFORE, path=r"/put", delay=0.05)
    async with httpx.AsyncClient(base_url=str(proxy.url)) as http:
        call = asyncio.create_task(http.put("/put"))
        await rule.wait()  # received and held: the moment to kill the caller
        assert not call.done()
        with pytest.raises(httpx.RemoteProtocolError):
            await call
    assert counter.done == []


async def test_a_rule_can_match_on_the_body(upstream: tuple[Counter, str], proxy: FaultProxy) -> None:
    counter, _ = upstream
    proxy.fault(Fault.STATUS_BEFORE, path=r"/", when=lambda body: b"deny" in body)
    async with httpx.AsyncClient(base_url=str(proxy.url)) as http:
        assert (await http.post("/", content=b"approve")).status_code == 200
        assert (await http.post("/", content=b"deny")).status_code == 503
    assert len(counter.done) == 1


async def test_slack_posts_a_message_whose_answer_the_client_never_gets(clock: FakeClock) -> None:
    install = Install(scopes=set(DEFAULT_SCOPES))
    async with FakeSlack(clock=clock, install=install) as slack:
        channel = DEFAULT_CHANNELS[0].id
        slack.invite(channel)
        host = slack.base_url.split("/api")[0]
        proxy = FaultProxy(host)
        await proxy.start()
        try:
            rule = proxy.fault(Fault.DROP_AFTER, path=r"chat\.postMessage$")
            client = AsyncWebClient(
                token=slack.bot_token, base_url=f"{proxy.url}/api/", retry_handlers=[], timeout=5
            )
            # slack-sdk's aiohttp client surfaces a dropped answer as aiohttp's own error.
            with pytest.raises(aiohttp.ServerDisconnectedError):
                await client.chat_postMessage(channel=channel, text="hello")
            await rule.wait()
        finally:
            await proxy.stop()
        assert [m.text for m in slack.messages(channel)] == ["hello"]
