"""What the logs must not hold: known secrets, token-shaped strings, payload bodies; in every record of
every logger, however it was made, and in structlog's own output."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from urllib.parse import quote_plus

import pytest
import structlog
from pydantic import SecretStr

from logcapture import Capture
from marketplace_slack.infra import logs
from marketplace_slack.infra.redaction import (
    REDACTED,
    WITHHELD,
    Redactor,
    keep_handed_secret,
    keep_secrets,
)

SECRET = "s3cr3t-signing-value"
PAT = "sbx_pasted_personal_token"


@pytest.fixture
def redactor() -> Redactor:
    redactor = Redactor()
    redactor.keep(SECRET)
    return redactor


def test_a_kept_secret_is_redacted_in_every_escaped_form_it_travels_in(redactor: Redactor) -> None:
    secret = "key/with+odd=chars&more"
    redactor.keep(SecretStr(secret))
    for shown in (secret, quote_plus(secret), json.dumps(secret), json.dumps(json.dumps(secret))):
        assert secret not in redactor.text(f"it said {shown} there")
        assert quote_plus(secret) not in redactor.text(f"it said {shown} there")
    assert redactor.text(f"why {SECRET}?") == f"why {REDACTED}?"


def test_short_values_are_not_taken_for_secrets() -> None:
    redactor = Redactor()
    redactor.keep("", None, "abc", SecretStr("   "))
    assert redactor.text("abc is a word") == "abc is a word"


@pytest.mark.parametrize(
    "token",
    [
        "xoxb-1234-5678-abcdefABCDEF",
        "xoxp-1-2-3-deadbeef",
        "xapp-1-A0123-4567-89abcdef",
        "xoxe.xoxp-1-refreshrotated",
        "xoxe-1-abcdefgh",
    ],
)
def test_slack_tokens_are_known_by_their_shape(token: str) -> None:
    redacted = Redactor().text(f"calling with {token} now")
    assert token not in redacted and REDACTED in redacted
    assert redacted.endswith(" now")


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Authorization: Bearer abcdef123456", "abcdef123456"),
        ("headers: {'Authorization': 'Bearer abcdef123456'}", "abcdef123456"),
        ("token=tok123456&other", "tok123456"),
        ('{"client_secret": "cs-123456"}', "cs-123456"),
        ("{'signing_key': 'sk-123456'}", "sk-123456"),
        ("X-Slack-Signature: v0=abcdef0123", "v0=abcdef0123"),
        ("(signature: v0=abcdef0123, timestamp: 1)", "v0=abcdef0123"),
        ("password = hunter2hunter2", "hunter2hunter2"),
        ("wss://x/link/?ticket=tk-1234abcd&app_id=A1", "tk-1234abcd"),
    ],
)
def test_a_value_under_a_secrets_name_is_redacted(text: str, secret: str) -> None:
    assert secret not in Redactor().text(text)


def test_a_form_encoded_body_is_withheld_but_a_query_string_is_not() -> None:
    redactor = Redactor()
    body = "token=verif&team_id=T1&user_id=U1&command=%2Fmarketplace&text=link+sbx_pasted"
    assert redactor.text(f"body: {body})") == f"body: {WITHHELD})"
    url = "GET https://slack.com/api/conversations.history?channel=C1&limit=10"
    assert redactor.text(url) == url


def test_bolts_bad_signature_record_keeps_its_sentence_and_loses_the_body() -> None:
    payload = json.dumps({"type": "view_submission", "view": {"state": {"values": {"v": PAT}}}})
    message = (
        "Invalid request signature detected "
        f"(signature: v0=0123abcd, timestamp: 1700000000, body: payload={quote_plus(payload)})"
    )
    redacted = Redactor().text(message)
    assert PAT not in redacted and "0123abcd" not in redacted
    assert redacted.startswith("Invalid request signature detected (signature: ")
    assert f"payload={WITHHELD}" in redacted


def test_a_socket_frame_is_withheld_even_before_its_token_is_known() -> None:
    frame = json.dumps(
        {
            "envelope_id": "e1",
            "type": "interactive",
            "payload": {"view": {"state": {"values": {"mp_token": {"mp_token_input": {"value": PAT}}}}}},
        }
    )
    message = f"Received message (type: TEXT, data: {frame!r}, session: s_1)"
    redacted = Redactor().text(message)
    assert PAT not in redacted
    assert redacted == f"Received message (type: TEXT, data: '{WITHHELD}', session: s_1)"


def test_a_truncated_body_is_withheld_to_the_end() -> None:
    redacted = Redactor().text('Received: {"view": {"state": {"values": "' + PAT)
    assert redacted == f"Received: {WITHHELD}"


def test_an_unclosed_brace_in_a_traceback_withholds_only_its_line() -> None:
    traceback = f'Traceback:\n  File "x.py", line 3\n    body = {{"state": {{"v": "{PAT}",\nKeyError: v'
    redacted = Redactor().text(traceback)
    assert redacted == f'Traceback:\n  File "x.py", line 3\n    body = {WITHHELD}\nKeyError: v'


def test_a_redaction_that_fails_withholds_the_record_and_does_not_raise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    redactor = Redactor()

    def broken(text: str) -> str:
        raise RuntimeError("a bug in a pattern")

    monkeypatch.setattr(redactor, "text", broken)
    logs.install_redaction(redactor, logging.DEBUG)
    record = logging.getLogger("x").makeRecord("x", logging.ERROR, "f", 1, "with %s", (SECRET,), None)
    assert SECRET not in record.getMessage() and "withheld" in record.getMessage()


def test_a_short_diagnostic_mapping_survives() -> None:
    message = "The server responded with: {'ok': False, 'error': 'not_in_channel'}"
    assert Redactor().text(message) == message


def test_typed_input_is_withheld_however_short() -> None:
    assert PAT not in Redactor().text(f"state: {{'mp_token_input': {{'value': '{PAT}'}}}}")


def test_values_are_redacted_through_structures(redactor: Redactor) -> None:
    class Holder:
        def __repr__(self) -> str:
            return f"Holder({SECRET})"

    value = {
        "note": f"with {SECRET}",
        "nested": {"api_token": "anything", "list": ["Bearer unknown-token-123", 3, None, True]},
        "secret": SecretStr("x" * 10),
        "object": Holder(),
    }
    redacted = redactor.value(value)
    assert redacted == {
        "note": f"with {REDACTED}",
        "nested": {"api_token": REDACTED, "list": [f"Bearer {REDACTED}", 3, None, True]},
        "secret": REDACTED,
        "object": f"Holder({REDACTED})",
    }


def test_handed_tokens_are_bounded_and_the_apps_own_secrets_are_not() -> None:
    redactor = Redactor(max_handed=3)
    redactor.keep(SECRET)
    first, second = "handed-token-first", "handed-token-second"
    redactor.keep(first, handed=True)
    redactor.keep(second, handed=True)
    redactor.keep(first, handed=True)  # seen again: the newest again
    assert first not in redactor.text(first)
    for number in range(2):
        redactor.keep(f"handed-token-{number:06d}", handed=True)
    assert redactor.text(second) == second  # the oldest went
    assert first not in redactor.text(first)
    assert "handed-token-000001" not in redactor.text("handed-token-000001")
    assert SECRET not in redactor.text(SECRET)  # the app's own stay


@pytest.fixture
def root_capture() -> Iterator[Capture]:
    capture = Capture()
    logging.root.addHandler(capture)
    yield capture
    logging.root.removeHandler(capture)


def _log_everything(logger: logging.Logger) -> None:
    logger.warning("signed with %s", SECRET)
    try:
        raise RuntimeError(f"failed with {SECRET}")
    except RuntimeError:
        logger.exception("it failed")
    logger.info("where", stack_info=True, extra={"body": f"token={SECRET}", "api_token": "x" * 12})
    logger.info({"view": {"state": SECRET}})  # Bolt's `logger.info(body)`


def test_every_record_reaching_the_roots_handlers_is_redacted(root_capture: Capture) -> None:
    logs.install_redaction(redactor := Redactor(), logging.DEBUG)
    redactor.keep(SECRET)
    logging.root.setLevel(logging.DEBUG)
    _log_everything(logging.getLogger("marketplace_slack.test"))

    assert len(root_capture.records) == 4, "the records were not captured; nothing below would fail"
    assert "failed with" in root_capture.lines[1] and "RuntimeError" in root_capture.lines[1]
    assert SECRET not in root_capture.everything()
    assert root_capture.records[2].__dict__["api_token"] == REDACTED


def test_the_record_factory_redacts_for_a_handler_without_the_filter() -> None:
    logs.install_redaction(redactor := Redactor(), logging.DEBUG)
    redactor.keep(SECRET)
    logger = logging.getLogger("marketplace_slack.test.alone")
    alone = Capture()  # added after redaction was installed, and reached by no root handler
    logger.addHandler(alone)
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    try:
        _log_everything(logger)
    finally:
        logger.removeHandler(alone)
        logger.propagate = True
        logger.setLevel(logging.NOTSET)
    assert len(alone.lines) == 4 and "RuntimeError" in alone.lines[1]
    assert SECRET not in "\n".join(alone.lines)  # the extras are set after the factory: the filter's


def test_a_record_made_elsewhere_is_redacted_by_the_handlers_filter(root_capture: Capture) -> None:
    logs.install_redaction(redactor := Redactor(), logging.INFO)
    redactor.keep(SECRET)
    record = logging.makeLogRecord({"name": "x", "levelno": logging.ERROR, "msg": "%s", "args": (SECRET,)})
    for handler in logging.root.handlers:
        handler.handle(record)
    assert root_capture.records and SECRET not in root_capture.everything()


def test_the_libraries_are_capped_even_on_loggers_bolt_made_with_the_roots_level(
    root_capture: Capture,
) -> None:
    made = logging.getLogger("slack_bolt.AsyncRequestVerification")
    made.level = logging.DEBUG  # what Bolt's `_configure_from_root` does
    logs.install_redaction(Redactor(), logging.DEBUG)
    logging.root.setLevel(logging.DEBUG)

    assert logging.getLogger("slack_sdk.socket_mode.aiohttp").getEffectiveLevel() == logging.INFO
    assert made.getEffectiveLevel() == logging.INFO
    made.level = logging.DEBUG  # and made again after start-up: the handler's filter still drops it
    made.debug("Received message (data: ...)")
    made.info("Invalid request signature detected")
    logging.getLogger("marketplace_slack.x").debug("the app's own DEBUG passes")
    assert [r.getMessage() for r in root_capture.records] == [
        "Invalid request signature detected",
        "the app's own DEBUG passes",
    ]


def test_installing_twice_wraps_the_factory_once() -> None:
    original = logging.getLogRecordFactory()
    logs.install_redaction(Redactor(), logging.INFO)
    logs.install_redaction(Redactor(), logging.INFO)
    assert logging.getLogRecordFactory().base is original  # type: ignore[attr-defined]
    logs.uninstall_redaction()
    assert logging.getLogRecordFactory() is original


def test_structlog_output_is_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    keep_secrets([SecretStr(SECRET)])
    keep_handed_secret(PAT)
    logs.configure("DEBUG", "json")
    log = structlog.get_logger("marketplace_slack.test")
    try:
        raise ValueError(f"bad {PAT}")
    except ValueError:
        log.exception("link_failed", note=f"with {SECRET}", nested={"token": PAT, "ok": [PAT]})
    log.debug("body_seen", raw=f"payload={quote_plus(PAT)}", authorization="Bearer x")

    out = capsys.readouterr()
    lines = [json.loads(line) for line in out.out.splitlines()]
    assert [line["event"] for line in lines] == ["link_failed", "body_seen"]
    assert "ValueError: bad" in lines[0]["exception"]
    assert SECRET not in out.out + out.err and PAT not in out.out + out.err
    assert lines[1]["authorization"] == REDACTED


def test_configure_redacts_the_standard_librarys_records_too(root_capture: Capture) -> None:
    keep_secrets([SecretStr(SECRET)])
    logs.configure("DEBUG", "console")
    logging.getLogger("aiohttp.server").error("Error handling request %s", f"token={SECRET}")
    logging.getLogger("slack_sdk.web.async_base_client").debug("Sending a request - json: %s", SECRET)
    assert [r.name for r in root_capture.records] == ["aiohttp.server"]
    assert SECRET not in root_capture.everything()
