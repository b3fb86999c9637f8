"""The sandbox listens where only this machine can reach it, unless told that is not what is wanted:
its tokens are well known (sbx_<username>) and it delivers webhooks to any URL registered with it."""

from __future__ import annotations

import asyncio
import os
import sys

import pytest

from marketplace_slack_standins.sandbox.server import (
    INSECURE_ENV,
    InsecureBind,
    SandboxServer,
    check_bind,
    is_loopback,
)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "localhost", "LOCALHOST", "::1", "[::1]"])
def test_loopback_addresses_are_allowed(host: str) -> None:
    assert is_loopback(host)
    check_bind(host, insecure=False)  # does not raise


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "", "10.0.0.5", "192.168.1.2", "sandbox.example.com"])  # noqa: S104
def test_anything_else_is_refused_unless_insecure(host: str) -> None:
    assert not is_loopback(host)
    with pytest.raises(InsecureBind) as refused:
        check_bind(host, insecure=False)
    assert "\n" not in str(refused.value) and "--insecure" in str(refused.value)
    check_bind(host, insecure=True)  # told: it listens


def test_the_server_itself_refuses_before_listening() -> None:
    with pytest.raises(InsecureBind):
        SandboxServer(host="0.0.0.0")  # noqa: S104
    assert SandboxServer(host="0.0.0.0", insecure=True).host == "0.0.0.0"  # noqa: S104


async def _cli(*args: str, env: dict[str, str] | None = None) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "marketplace_slack.cli",
        "sandbox",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )


async def test_the_command_refuses_a_public_address_in_one_line_and_exits_2() -> None:
    process = await _cli("--host", "0.0.0.0", "--port", "0")  # noqa: S104
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 2
    [line] = err.decode().splitlines()
    assert line.startswith("marketplace-slack: the sandbox will not listen on 0.0.0.0")
    assert "Marketplace sandbox serving" not in out.decode()


@pytest.mark.parametrize(
    ("args", "env"), [(("--insecure",), {}), ((), {INSECURE_ENV: "1"})], ids=["flag", "environment"]
)
async def test_the_command_listens_on_a_public_address_when_told_it_is_insecure(
    args: tuple[str, ...], env: dict[str, str]
) -> None:
    process = await _cli("--host", "0.0.0.0", "--port", "0", *args, env=env)  # noqa: S104
    try:
        assert process.stdout is not None
        first = await asyncio.wait_for(process.stdout.readline(), timeout=60)
        assert first.decode().startswith("Marketplace sandbox serving at http://0.0.0.0:")
    finally:
        process.terminate()
        await process.wait()
