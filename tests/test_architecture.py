"""The product runs without its stand-ins: importing it, or serving, loads no `marketplace_slack_standins`.

import-linter (the contracts in pyproject.toml) proves no product module imports the stand-ins except the
CLI's `demo` and `sandbox`, which do it inside their functions. These tests check the other half in a
fresh interpreter, where `sys.modules` shows what was really loaded: that those imports stay lazy.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

STANDINS = "marketplace_slack_standins"

_REPORT = f"""
import json, sys
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] == {STANDINS!r})))
"""

# `marketplace-slack serve` for real, stopped with Ctrl-C as soon as the app has started.
_SERVE = """
import asyncio, os, signal
from marketplace_slack import app, cli

started = app.Application.start

async def start_then_interrupt(self, **kwargs):
    await started(self, **kwargs)
    asyncio.get_running_loop().call_soon(os.kill, os.getpid(), signal.SIGINT)

app.Application.start = start_then_interrupt
assert cli.main(["serve"]) == 0
"""


def _loaded_standins(code: str, cwd: Path, **env: str) -> list[str]:
    # The app's own settings come only from `env`: none from the developer's shell or a .env file.
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MARKETPLACE_", "SLACK_", "MPSLACK_"))}
    done = subprocess.run(  # noqa: S603 - our own interpreter running our own probe
        [sys.executable, "-c", code + _REPORT],
        cwd=cwd,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    loaded: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


def test_importing_the_app_and_the_cli_loads_no_standin(tmp_path: Path) -> None:
    assert _loaded_standins("import marketplace_slack.app, marketplace_slack.cli", tmp_path) == []


def test_serving_loads_no_standin(tmp_path: Path) -> None:
    settings = {
        "MARKETPLACE_URL": "http://127.0.0.1:9/marketplace",  # nothing listens: reconciling just fails
        "MARKETPLACE_TOKEN": "not-a-token",
        "MARKETPLACE_WEBHOOK_SIGNING_KEY": "not-a-key",
        "SLACK_BOT_TOKEN": "xoxb-not-a-token",
        "SLACK_SIGNING_SECRET": "not-a-secret",
        "MPSLACK_DEFAULT_CHANNEL": "C0STEWARDS",
        "MPSLACK_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "MPSLACK_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'app.db'}",
        "MPSLACK_HOST": "127.0.0.1",
        "MPSLACK_PORT": "0",
        "MPSLACK_LOG_LEVEL": "ERROR",
    }
    assert _loaded_standins(_SERVE, tmp_path, **settings) == []
