"""The configuration file: defaults, a complete example, and errors that name the file and the key."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from marketplace_slack.config import load_settings
from marketplace_slack.config_file import ConfigFileError, crontab, load_config_file
from marketplace_slack.workflow.routing import Router

DOCS = Path(__file__).parents[1] / "docs" / "reminders.md"

COMPLETE = """
channel_owner: U0ADMIN
routes:
  - domain: Sales
    channel: C0SALES
    owner: U0GINA
  - product: Customer 360
    channel: C0CUSTOMER
    reminders: dm
reminders:
  mode: thread
  first_after: 4h
  repeat_every: 1d
  working_hours: {start: "08:30", end: "17:00", days: [mon, tue, wed, thu]}
  timezone: Europe/Berlin
  escalation: {after: 3, channel: C0ESCALATE, usergroup: S0STEWARDS}
digests:
  - channel: C0SALES
    schedule: "0 9 * * 1-5"
    timezone: Europe/Berlin
  - channel: C0CUSTOMER
    schedule: "30 8 * * mon,wed,fri"
    timezone: America/Los_Angeles
    scope: all
    post_when_empty: true
expiry:
  days_before: [14, 3, 1]
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "marketplace-slack.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_no_file_means_the_documented_defaults() -> None:
    config = load_config_file(None)
    reminders = config.reminders
    assert (reminders.enabled, reminders.mode, reminders.first_delay, reminders.interval) == (
        True,
        "thread",
        timedelta(hours=4),
        timedelta(hours=9),  # one working day of 09:00 to 18:00
    )
    assert (reminders.hours.start, reminders.hours.end, reminders.hours.days) == (
        time(9),
        time(18),
        set(range(5)),
    )
    assert reminders.escalation is None and config.digests == [] and config.expiry.leads == (7, 1)


def test_a_complete_file(tmp_path: Path) -> None:
    config = load_config_file(_write(tmp_path, COMPLETE))
    assert config.reminders.interval == timedelta(hours=8, minutes=30)  # "1d" is one *working* day
    assert config.reminders.escalation is not None and config.reminders.escalation.usergroup == "S0STEWARDS"
    assert config.digests[0].schedule == "0 9 * * mon,tue,wed,thu,fri"  # cron numbering, spelled out
    assert config.expiry.leads == (14, 3, 1)
    router = Router.from_routes("C0DEFAULT", config.routes, default_owner=config.channel_owner)
    assert (router.owner_for("C0SALES"), router.owner_for("C0CUSTOMER")) == ("U0GINA", "U0ADMIN")
    route = router.route_for(product_id="p", product_name="customer 360")
    assert route is not None and (route.channel, route.reminders) == ("C0CUSTOMER", "dm")
    assert router.channel_for(product_id="p", product_name="Other", domain_name="sales") == "C0SALES"


def test_the_documented_example_is_valid(tmp_path: Path) -> None:
    text = DOCS.read_text(encoding="utf-8")
    example = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    config = load_config_file(_write(tmp_path, example))
    assert config.routes and config.digests and config.reminders.escalation is not None
    assert config.decisions.allow_self_approval is False


def test_separation_of_duties_is_the_default_and_can_be_turned_off(tmp_path: Path) -> None:
    assert load_config_file(None).decisions.allow_self_approval is False
    allowed = load_config_file(_write(tmp_path, "decisions: {allow_self_approval: true}"))
    assert allowed.decisions.allow_self_approval is True
    with pytest.raises(ConfigFileError, match=r"decisions\.allow_selfapproval"):
        load_config_file(_write(tmp_path, "decisions: {allow_selfapproval: true}"))  # a typo is refused


def test_a_route_may_be_notify_only(tmp_path: Path) -> None:
    text = (
        "routes:\n"
        "  - {domain: Finance, channel: C0FIN, decisions: marketplace}\n"
        "  - {product: Ledger, channel: C0LEDGER}\n"
    )
    config = load_config_file(_write(tmp_path, text))
    assert [r.decisions for r in config.routes] == ["marketplace", "slack"]  # slack: the default
    router = Router.from_routes("C0DEFAULT", config.routes)
    assert router.notify_only(product_id="p1", product_name="Payroll", domain_name="finance")
    # A product's own route wins over its domain's, in this as in the channel.
    assert not router.notify_only(product_id="p2", product_name="Ledger", domain_name="Finance")
    assert not router.notify_only(product_id="p3", product_name="Elsewhere")


def test_only_full_members_link_and_decide_unless_the_file_says_otherwise(tmp_path: Path) -> None:
    default = load_config_file(None).identity
    assert (default.allow_guests, default.allow_external) == (False, False)
    lenient = load_config_file(_write(tmp_path, "identity: {allow_guests: true, allow_external: true}"))
    assert (lenient.identity.allow_guests, lenient.identity.allow_external) == (True, True)
    with pytest.raises(ConfigFileError, match=r"identity\.allow_guest"):
        load_config_file(_write(tmp_path, "identity: {allow_guest: true}"))


def test_cards_show_no_email_unless_configured(tmp_path: Path) -> None:
    assert load_config_file(None).cards.show_requester_email is False
    shown = load_config_file(_write(tmp_path, "cards: {show_requester_email: true}"))
    assert shown.cards.show_requester_email is True
    with pytest.raises(ConfigFileError, match=r"cards\.show_email"):
        load_config_file(_write(tmp_path, "cards: {show_email: true}"))  # a typo is refused


def test_links_last_90_days_warned_3_before_unless_the_file_says_otherwise(tmp_path: Path) -> None:
    default = load_config_file(None).links.lifetime
    assert (default.expire_after, default.warn_before) == (timedelta(days=90), timedelta(days=3))
    short = load_config_file(_write(tmp_path, "links: {expire_after_days: 30, warn_days_before: 0}"))
    assert (short.links.lifetime.expire_after, short.links.lifetime.warn_before) == (
        timedelta(days=30),
        timedelta(0),
    )


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("links: {expire_after_days: 0}", "links.expire_after_days:"),
        (
            "links: {expire_after_days: 3, warn_days_before: 3}",
            "links: warn_days_before must be fewer days than expire_after_days",
        ),
        ("reminders: {first_after: soon}", "reminders.first_after: 'soon' is not a working-time span"),
        (
            "reminders: {timezone: Mars/Olympus}",
            "reminders.timezone: 'Mars/Olympus' is not an IANA time zone",
        ),
        ("reminders: {mode: pigeon}", "reminders.mode:"),
        ("reminders: {working_hours: {start: '18:00', end: '09:00'}}", "reminders.working_hours:"),
        ("reminders: {working_hours: {days: [funday]}}", "reminders.working_hours.days.0:"),
        ("reminders: {escalation: {after: 2}}", "reminders.escalation: an escalation needs"),
        ("reminders: {repeat_every: 5m}", "reminders: repeat_every must be at least 30m"),
        ("reminders: {remind_me: true}", "reminders.remind_me: Extra inputs are not permitted"),
        ("digests: [{channel: C1, schedule: 'every morning'}]", "digests.0.schedule:"),
        ("digests: [{channel: C1, schedule: '0 9 * * 8'}]", "digests.0.schedule:"),
        ("digests: [{channel: C1}, {channel: C1}]", "digests: one digest per channel; repeated: C1"),
        ("expiry: {days_before: [0]}", "expiry.days_before.0:"),
        ("routes: [{channel: C1}]", "routes.0: a route names exactly one of"),
        ("routes: [{product: X, channel: C1, reminders: sometimes}]", "routes.0.reminders:"),
        # Channel names where Slack wants ids: refused at start-up, not when the first card bounces.
        ("routes: [{domain: Sales, channel: '#sales'}]", "routes.0: '#sales' is a name, not a channel id"),
        ("digests: [{channel: stewards}]", "digests.0.channel: 'stewards' is a name, not a channel id"),
        ("reminders: {escalation: {channel: '#leads'}}", "reminders.escalation.channel: '#leads' is a name"),
        ("routes: [{product: X, channel: C1, owner: gina}]", "routes.0.owner:"),
        ("channel_owner: '@admin'", "channel_owner:"),
        (
            "routes: [{product: X, channel: C1, decisions: chat}]",
            "routes.0.decisions: Input should be 'slack' or 'marketplace'",
        ),
    ],
)
def test_errors_name_the_file_and_the_key(tmp_path: Path, text: str, where: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigFileError) as caught:
        load_config_file(path)
    assert f"{path}: {where}" in str(caught.value)


def test_unreadable_and_malformed_files_say_so(tmp_path: Path) -> None:
    with pytest.raises(ConfigFileError, match="cannot be read"):
        load_config_file(tmp_path / "missing.yml")
    with pytest.raises(ConfigFileError, match="not valid YAML"):
        load_config_file(_write(tmp_path, "routes: [unclosed"))


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("0 9 * * 1-5", "0 9 * * mon,tue,wed,thu,fri"),
        ("0 9 * * 0,6", "0 9 * * sun,sat"),
        ("0 9 * * 7", "0 9 * * sun"),
        ("0 9 * * */2", "0 9 * * */2"),  # left to APScheduler as written
        ("0 9 * * 0-6/3", "0 9 * * sun,wed,sat"),
        ("15 8 * * mon-fri", "15 8 * * mon-fri"),
    ],
)
def test_cron_weekdays_mean_what_they_mean_in_cron(given: str, expected: str) -> None:
    assert crontab(given) == expected
    monday_noon = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    if given == "0 9 * * 1-5":  # APScheduler alone would take 1-5 for Tuesday to Saturday
        fire = CronTrigger.from_crontab(crontab(given), timezone="UTC").get_next_fire_time(None, monday_noon)
        assert fire is not None and fire.strftime("%a") == "Tue"
        saturday = CronTrigger.from_crontab(crontab(given), timezone="UTC").get_next_fire_time(
            None, datetime(2026, 11, 28, 0, 0, tzinfo=UTC)
        )
        assert saturday is not None and saturday.strftime("%a") == "Mon"


def _settings(**extra: str) -> dict[str, str]:
    return {
        "MARKETPLACE_URL": "https://mp.example.com/marketplace",
        "MARKETPLACE_TOKEN": "t",
        "MARKETPLACE_WEBHOOK_SIGNING_KEY": "k",
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_SIGNING_SECRET": "s",
        "MPSLACK_DEFAULT_CHANNEL": "C1",
        "MPSLACK_ENCRYPTION_KEYS": "A" * 43 + "=",  # a well-formed (if weak) Fernet key
        **extra,
    }


def test_the_old_variable_still_names_the_file_and_two_different_files_are_refused(tmp_path: Path) -> None:
    old = load_settings(_env_file=None, **_settings(MPSLACK_ROUTES_FILE="/etc/a.yml"))
    assert old.config_path == Path("/etc/a.yml")
    new = load_settings(_env_file=None, **_settings(MPSLACK_CONFIG_FILE="/etc/b.yml"))
    assert new.config_path == Path("/etc/b.yml") and new.tick_seconds == 60
    with pytest.raises(Exception, match="name different files"):
        load_settings(
            _env_file=None, **_settings(MPSLACK_CONFIG_FILE="/etc/b.yml", MPSLACK_ROUTES_FILE="/etc/a.yml")
        )


async def test_the_scheduler_gets_a_tick_a_cron_per_digest_the_grant_scan_and_the_pruner(
    tmp_path: Path,
) -> None:
    from marketplace_slack.workflow.schedule import Timekeeper

    config = load_config_file(_write(tmp_path, COMPLETE))

    class Digests:
        configured = config.digests

        async def run_due(self) -> int:
            return 0

    class Pruner:
        async def run(self) -> None:
            return None

    keeper = Timekeeper(reminders=None, digests=Digests(), expiry=None, pruner=Pruner(), clock=None)  # type: ignore[arg-type]
    scheduler = AsyncIOScheduler(timezone=UTC)
    keeper.attach(scheduler, tick=timedelta(seconds=60), scan=timedelta(hours=1))
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"due-work", "grants", "prune", "digest:C0SALES", "digest:C0CUSTOMER"}
    trigger = jobs["digest:C0SALES"].trigger
    fire = trigger.get_next_fire_time(None, datetime(2026, 11, 23, 9, 0, tzinfo=UTC))  # Monday 10:00 Berlin
    assert fire is not None and fire.astimezone(UTC) == datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
