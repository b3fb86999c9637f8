"""The `marketplace-slack` command: serve, check-config, doctor, demo, sandbox, webhook, keys, audit."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Sequence
from typing import Any


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        with contextlib.suppress(KeyboardInterrupt):
            result: int = args.run(args)
            return result
    except _ConfigExit as exc:
        print(f"marketplace-slack: configuration error:\n{exc}", file=sys.stderr)
        return 2
    return 0


class _ConfigExit(Exception):
    pass


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="marketplace-slack",
        description="Review Immuta Marketplace access requests in Slack.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    sandbox = sub.add_parser("sandbox", help="run the Marketplace sandbox (a working stand-in API)")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=8090)
    sandbox.add_argument(
        "--insecure",
        action="store_true",
        help="allow a non-loopback --host (its tokens are well known and it sends webhooks anywhere)",
    )
    sandbox.set_defaults(run=_run_sandbox)

    demo = sub.add_parser("demo", help="play the whole approval loop offline and print what Slack shows")
    demo.set_defaults(run=_run_demo)

    serve = sub.add_parser("serve", help="run the Slack app (settings from the environment and .env)")
    serve.set_defaults(run=_run_serve)

    check = sub.add_parser("check-config", help="validate the settings and the configuration file, then exit")
    check.set_defaults(run=_run_check_config)

    doctor = sub.add_parser(
        "doctor", help="check Slack, the Marketplace, the webhook, the database and the clock, then exit"
    )
    doctor.add_argument(
        "--webhook-url",
        help="the public URL of this app's webhook route (default: MPSLACK_PUBLIC_URL + the webhook path)",
    )
    doctor.add_argument("--timeout", type=float, default=10.0, help="seconds each check may take")
    doctor.set_defaults(run=_run_doctor)

    register = sub.add_parser("register-webhook", help="register this app's webhook with the Marketplace")
    register.add_argument("--url", required=True, help="the public URL of this app's webhook route")
    register.add_argument("--no-verify-tls", action="store_true", help="let the Marketplace skip TLS checks")
    register.set_defaults(run=_run_register)

    gen_key = sub.add_parser("gen-key", help="print a new encryption key for MPSLACK_ENCRYPTION_KEYS")
    gen_key.set_defaults(run=_run_gen_key)

    rotate = sub.add_parser("rotate-keys", help="re-encrypt stored tokens with the first key")
    rotate.set_defaults(run=_run_rotate)

    audit = sub.add_parser(
        "audit",
        help="export the audit log (decisions, refusals, links, unlinks, agreements) in time order",
    )
    audit.add_argument(
        "--since", metavar="DATE|DATETIME", help="from this time on (a date: its midnight, UTC)"
    )
    audit.add_argument(
        "--until", metavar="DATE|DATETIME", help="before this time (a date: that day included)"
    )
    audit.add_argument("--format", choices=("jsonl", "csv"), default="jsonl", help="default: jsonl")
    audit.add_argument("--output", metavar="FILE", help="write to FILE instead of standard output")
    audit.set_defaults(run=_run_audit)
    return parser


def _settings() -> Any:
    from marketplace_slack.config import ConfigError, environment_names, load_settings, unknown_variables
    from marketplace_slack.infra.logs import configure

    for warning in unknown_variables(environment_names()):
        print(f"marketplace-slack: warning: {warning}", file=sys.stderr)
    try:
        settings = load_settings()
    except ConfigError as exc:
        raise _ConfigExit(str(exc)) from None
    configure(settings.log_level, settings.log_format)
    return settings


def _config_file(settings: Any) -> Any:
    from marketplace_slack.config_file import ConfigFileError, load_config_file

    try:
        return load_config_file(settings.config_path)
    except ConfigFileError as exc:
        raise _ConfigExit(str(exc)) from None


def _run_demo(args: argparse.Namespace) -> int:
    from marketplace_slack.infra.logs import configure
    from marketplace_slack_standins.demo import run_demo

    configure("WARNING", "console")
    return asyncio.run(run_demo())


def _run_serve(args: argparse.Namespace) -> int:
    from marketplace_slack.app import StartupError, serve
    from marketplace_slack.config_file import ConfigFileError

    try:
        asyncio.run(serve(_settings()))
    except ConfigFileError as exc:
        raise _ConfigExit(str(exc)) from None
    except StartupError as exc:
        print(f"marketplace-slack: {exc}", file=sys.stderr)
        return 1
    return 0


def _run_check_config(args: argparse.Namespace) -> int:
    settings = _settings()
    config = _config_file(settings)
    reminders = config.reminders
    print(f"Configuration OK ({settings.config_path or 'no configuration file: defaults'}).")
    notify_only = sum(1 for r in config.routes if r.decisions == "marketplace")
    print(f"  routes: {len(config.routes)}" + (f" ({notify_only} notify only)" if notify_only else ""))
    if reminders.enabled:
        escalation = (
            f"escalate after {reminders.escalation.after}" if reminders.escalation else "no escalation"
        )
        print(
            f"  reminders: {reminders.mode}, first after {reminders.first_after}, "
            f"every {reminders.repeat_every} of working time; {escalation}"
        )
    else:
        print("  reminders: off")
    for digest in config.digests:
        print(f"  digest: {digest.channel} at '{digest.schedule}' {digest.timezone} ({digest.scope})")
    leads = ", ".join(f"{d} day{'' if d == 1 else 's'}" for d in config.expiry.leads)
    print(f"  expiry notices: {leads + ' before' if config.expiry.enabled else 'off'}")
    return 0


def _run_doctor(args: argparse.Namespace) -> int:
    from marketplace_slack.doctor import diagnose

    settings = _settings()
    config = _config_file(settings)
    findings = asyncio.run(diagnose(settings, config, webhook_url=args.webhook_url, timeout=args.timeout))
    for finding in findings:
        print(finding.line())
    return 0 if all(f.ok for f in findings) else 1


def _run_register(args: argparse.Namespace) -> int:
    from marketplace_slack.marketplace.client import MarketplaceClient
    from marketplace_slack.marketplace.errors import MarketplaceError
    from marketplace_slack.marketplace.registration import register_webhook

    settings = _settings()
    if settings.webhook_signing_key is None:
        raise _ConfigExit("MARKETPLACE_WEBHOOK_SIGNING_KEY is required to register a webhook")

    async def go() -> int:
        async with MarketplaceClient(str(settings.marketplace_url), settings.marketplace_token) as client:
            try:
                result = await register_webhook(
                    client, args.url, settings.webhook_signing_key, verify_tls=not args.no_verify_tls
                )
            except MarketplaceError as exc:
                print(f"marketplace-slack: could not register the webhook: {exc}", file=sys.stderr)
                return 1
        print(result.describe())
        return 0 if result.test_passed else 1

    return asyncio.run(go())


def _run_rotate(args: argparse.Namespace) -> int:
    from marketplace_slack.infra.vault import TokenVault
    from marketplace_slack.store.database import open_store

    settings = _settings()

    async def go() -> int:
        store = await open_store(
            settings.database_url.get_secret_value(),
            TokenVault(settings.encryption_keys),
            schema=settings.database_schema,
        )
        try:
            count = await store.links.rotate_tokens()
        finally:
            await store.aclose()
        print(f"Re-encrypted {count} linked token(s) with the first key.")
        return 0

    return asyncio.run(go())


def _run_audit(args: argparse.Namespace) -> int:
    from marketplace_slack.infra.vault import TokenVault
    from marketplace_slack.store import audit_export
    from marketplace_slack.store.database import open_store

    try:
        since = audit_export.parse_when(args.since) if args.since else None
        until = audit_export.parse_when(args.until, end_of_day=True) if args.until else None
    except ValueError as exc:
        print(f"marketplace-slack: audit: {exc}", file=sys.stderr)
        return 2
    if since is not None and until is not None and since >= until:
        print("marketplace-slack: audit: --since must be before --until", file=sys.stderr)
        return 2
    settings = _settings()

    async def go(out: Any) -> int:
        store = await open_store(
            settings.database_url.get_secret_value(),
            TokenVault(settings.encryption_keys),
            schema=settings.database_schema,
        )
        try:
            return await audit_export.write(store.audit.entries(since=since, until=until), out, args.format)
        finally:
            await store.aclose()

    if not args.output:
        asyncio.run(go(sys.stdout))
        return 0
    try:
        with open(args.output, "w", encoding="utf-8", newline="") as out:
            count = asyncio.run(go(out))
    except OSError as exc:
        print(f"marketplace-slack: audit: cannot write {args.output} ({exc.strerror})", file=sys.stderr)
        return 1
    print(f"Wrote {count} audit entr{'y' if count == 1 else 'ies'} to {args.output}.", file=sys.stderr)
    return 0


def _run_sandbox(args: argparse.Namespace) -> int:
    import os

    from marketplace_slack_standins.sandbox.server import INSECURE_ENV, InsecureBind, check_bind, run

    insecure = args.insecure or os.environ.get(INSECURE_ENV, "").strip().lower() in ("1", "true", "yes")
    try:
        check_bind(args.host, insecure=insecure)
    except InsecureBind as exc:
        print(f"marketplace-slack: {exc}", file=sys.stderr)
        return 2
    asyncio.run(run(args.host, args.port, insecure=insecure))
    return 0


def _run_gen_key(args: argparse.Namespace) -> int:
    from cryptography.fernet import Fernet

    print(Fernet.generate_key().decode())
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
