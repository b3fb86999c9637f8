"""Escaping, visible truncation that respects graphemes and entities, and the app's own tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from marketplace_slack.domain import Person
from marketplace_slack.slack.limits import measure
from marketplace_slack.slack.mrkdwn import (
    ELLIPSIS,
    clip,
    clip_mrkdwn,
    date,
    defang,
    escape,
    escape_clip,
    escape_line,
    escape_lines,
    md,
    mention,
    person,
    plain,
    safe_url,
)

FAMILY = "👩‍👩‍👧‍👦"  # 7 code points joined by ZWJ
FLAGS = "🇫🇷🇩🇪🇯🇵"
ACCENTED = "e\u0301" * 10  # "é" as e + combining acute


def test_escape_makes_markup_inert_and_keeps_entities_literal() -> None:
    assert escape("<!channel> & <@U1> <https://evil|bank>") == (
        "&lt;!channel&gt; &amp; &lt;@U1&gt; &lt;https://evil|bank&gt;"
    )
    assert escape("&amp;") == "&amp;amp;"
    assert escape(None) == ""


def test_escape_shows_formatting_characters_as_look_alikes_slack_does_not_parse() -> None:
    assert escape("*APPROVED BY CISO*") == "\uff0aAPPROVED BY CISO\uff0a"
    assert escape("~struck~ `code` ```block```") == (
        "\uff5estruck\uff5e \uff40code\uff40 \uff40\uff40\uff40block\uff40\uff40\uff40"
    )
    assert escape("_italic_ and __dunder__") == "\uff3fitalic\uff3f and \uff3f\uff3fdunder\uff3f\uff3f"
    # Inside a word Slack never formats `_`, so identifiers and emails stay as typed, copyable.
    assert escape("col_019 first_last@example.com") == "col_019 first_last@example.com"
    assert escape("a_\u200bb") == "a\uff3f\u200bb"  # a zero-width space is a word edge to Slack


def test_escape_keeps_a_line_from_opening_with_a_quote() -> None:
    assert escape("> Approved by Ada Admin") == "\uff1e Approved by Ada Admin"
    assert escape("ok\n  >>> rest") == "ok\n  \uff1e&gt;&gt; rest"
    assert escape("3 > 2") == "3 &gt; 2"  # not at a line's start: no quote, shown as typed
    assert escape("&gt; typed") == "&amp;gt; typed"


def test_a_cut_never_leaves_a_formatting_character_behind() -> None:
    for limit in range(200, 230):
        out = escape_clip("a_" * 500, limit)
        head = out.split(ELLIPSIS)[0]
        assert not head.endswith("_") and "a_a" in head
        assert measure(out) <= limit
    out = escape_lines("> " * 2000, 300)
    assert measure(out) <= 300 and out.startswith("\uff1e")


def test_md_objects_are_verbatim_so_slack_links_no_bare_url() -> None:
    assert md("see https://evil.example") == {
        "type": "mrkdwn",
        "text": "see https://evil.example",
        "verbatim": True,
    }


def test_escape_clip_fits_the_escaped_length_and_never_splits_an_entity() -> None:
    for limit in range(200, 220):
        out = escape_clip("&" * 500, limit)
        assert measure(out) <= limit
        head = out.split(ELLIPSIS)[0]
        assert head == "&amp;" * (len(head) // 5)
        assert "more characters" in out


def test_truncation_marker_counts_what_was_left_out() -> None:
    out = escape_clip("a" * 10_000, 300)
    shown = len(out.split(ELLIPSIS)[0])
    assert 200 < shown < 300
    assert f"truncated, {10_000 - shown} more characters — open in Marketplace)" in out


def test_small_limits_get_a_bare_ellipsis() -> None:
    # Below about twice the marker's length the explanation would crowd out the text itself.
    assert escape_clip("a" * 10_000, 100) == "a" * 99 + ELLIPSIS


def test_labels_end_with_a_bare_ellipsis() -> None:
    assert clip("x" * 200, 75, label=True) == "x" * 74 + ELLIPSIS
    assert clip("short", 75, label=True) == "short"


@pytest.mark.parametrize(
    "text", [FAMILY * 40, FLAGS * 40, ACCENTED * 20, "ab" + FAMILY * 40, "a" + FLAGS * 40]
)
def test_cuts_never_split_a_grapheme(text: str) -> None:
    for limit in range(70, 110):
        head = clip(text, limit, hint=None).split(ELLIPSIS)[0]
        assert text.startswith(head)
        rest = text[len(head) :]
        assert not rest.startswith(("\u200d", "\u0301", "\U0001f3fb")), (limit, head[-3:])
        assert not head.endswith("\u200d")
        if text.startswith("a" + "\U0001f1eb") or text.startswith("\U0001f1eb"):
            flags = head.lstrip("a")
            assert len(flags) % 2 == 0  # regional indicators come in pairs
        head.encode("utf-8")


def test_clean_removes_controls_bidi_overrides_and_lone_surrogates() -> None:
    assert escape("a\u202eb\x00c\x1bd") == "abcd"
    assert escape("x\ud800y") == "x\ufffdy"
    assert escape("tab\tand\nnewline") == "tab\tand\nnewline"
    assert escape("مرحبا שלום") == "مرحبا שלום"  # ordinary RTL text is untouched


def test_escape_line_collapses_whitespace_and_escape_lines_keeps_paragraphs() -> None:
    assert escape_line("  a \n\n b\t c ", 100) == "a b c"
    assert escape_lines("one\n\n\n\n\ntwo\nthree", 100) == "one\n\ntwo\nthree"


def test_a_huge_input_is_cheap_and_still_counted() -> None:
    out = escape_line("w" * 5_000_000, 50)
    assert measure(out) <= 50
    assert out.startswith("w") and out.endswith(ELLIPSIS)
    assert "4999" in escape_line("w" * 5_000_000, 200)  # the count covers the part never scanned


def test_clip_mrkdwn_never_cuts_inside_a_token_or_entity() -> None:
    token = date(datetime(2026, 1, 1, tzinfo=UTC))
    text = ("word &amp; " + token + " <@U0ABC> ") * 200
    for limit in range(200, 400, 7):
        out = clip_mrkdwn(text, limit)
        assert measure(out) <= limit
        head = out.rsplit(ELLIPSIS, 1)[0]
        assert head.count("<") == head.count(">")
        assert not head.rstrip().endswith(("&", "&a", "&am", "&amp"))


def test_mentions_only_for_well_formed_slack_ids() -> None:
    assert mention("U0123ABC") == "<@U0123ABC>"
    assert mention("W0123ABC") == "<@W0123ABC>"
    for bad in ("<!channel>", "U12>|x", "u0123", "", None, "C0123ABC", "U0123ABC\n"):
        assert mention(bad) is None


def test_person_is_a_mention_or_an_escaped_name_with_email() -> None:
    assert person(Person("1", "n", "Nora", "n@x", slack_user_id="U0NORA")) == "<@U0NORA>"
    assert person(Person("1", "n", "<b>Nora</b>", "n@x")) == "&lt;b&gt;Nora&lt;/b&gt; (n@x)"
    assert person(Person("1", "n", "Nora", "n@x", slack_user_id="<!here>")) == "Nora (n@x)"
    assert person(Person("1", "", "", None)) == "1"
    assert person(Person("", "", "", None)) == "Unknown user"
    assert person(Person("1", "n", "Nora", "n@x"), with_email=False) == "Nora"
    assert person(Person("1", "", "", "n@x"), with_email=False) == "1"  # not the email in its place
    assert person(Person("1", "", "", "n@x")) == "n@x"


def test_date_uses_slack_formatting_with_a_utc_fallback() -> None:
    when = datetime(2026, 11, 20, 15, 5, tzinfo=timezone(timedelta(hours=1)))
    assert date(when) == "<!date^1795183500^{date_short_pretty} at {time}|2026-11-20 14:05 UTC>"
    assert date(datetime(2026, 11, 20, 14, 5)).endswith("|2026-11-20 14:05 UTC>")  # naive = UTC


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://marketplace.example.com/r/1", True),
        ("http://localhost:8080/r/1", True),
        ("javascript:alert(1)", False),
        ("https://x.example/" + "a" * 3000, False),
        ("https://x.example/a b", False),
        ("", False),
        (None, False),
    ],
)
def test_safe_url(url: str | None, ok: bool) -> None:
    assert (safe_url(url) is not None) is ok
    if ok:
        assert safe_url(url) == url


def test_plain_text_is_defanged_and_never_empty() -> None:
    assert defang("<!channel>") == "\u2039!channel\u203a"
    assert plain("<!here>", 150)["text"] == "\u2039!here\u203a"
    assert plain("", 150)["text"] == ELLIPSIS
    assert plain("   ", 150)["text"] == ELLIPSIS
    assert measure(plain("😀" * 100, 150)["text"]) <= 150
