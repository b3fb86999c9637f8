"""The fake Slack's model of mrkdwn formatting: it finds at least what Slack would format."""

from __future__ import annotations

import pytest

from marketplace_slack_standins.fakeslack.formatting import Span, formatting, payload_formatting


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("*APPROVED BY CISO*", [Span("bold", "APPROVED BY CISO")]),
        ("say _this_ now", [Span("italic", "this")]),
        ("~gone~", [Span("strike", "gone")]),
        ("run `x *y*` here", [Span("code", "x *y*")]),  # nothing inside code is formatted
        ("```a\n*b*```", [Span("pre", "a\n*b*")]),
        ("> Approved by Ada Admin", [Span("quote", "Approved by Ada Admin")]),
        ("line\n&gt; Approved", [Span("quote", "Approved")]),  # Slack sends `>` as `&gt;`
        ("<https://x.example/a|*label*>", [Span("link", "https://x.example/a"), Span("bold", "label")]),
        ("\u200b*mid*\u200bword", [Span("bold", "mid")]),  # a zero-width space is a word edge
    ],
)
def test_formatting_slack_applies_is_found(text: str, expected: list[Span]) -> None:
    assert formatting(text, verbatim=True) == expected


@pytest.mark.parametrize(
    "text",
    [
        "snake_case_name",
        "a*b*c",
        "* not bold *",
        "3 &gt; 2",
        "&amp;gt; typed",
        "\uff0aAPPROVED\uff0a \uff3fx\uff3f \uff5ex\uff5e \uff40x\uff40",
        "\uff1e Approved",
    ],
)
def test_what_slack_leaves_alone_is_not_formatting(text: str) -> None:
    assert formatting(text, verbatim=True) == []


def test_without_verbatim_bare_urls_emails_domains_and_channels_become_links() -> None:
    text = "https://evil.example www.evil.example ciso@evil.example evil.example #general @here"
    found = formatting(text)
    assert [s.kind for s in found] == ["autolink"] * 6
    assert {s.text for s in found} >= {"https://evil.example", "ciso@evil.example", "#general", "@here"}
    assert formatting(text, verbatim=True) == []  # verbatim stops automatic parsing, not formatting
    assert formatting("*x* https://a.example", verbatim=True) == [Span("bold", "x")]


def test_a_message_shows_its_blocks_and_its_text_only_without_them() -> None:
    block = {"type": "section", "text": {"type": "mrkdwn", "text": "*b*", "verbatim": True}}
    assert payload_formatting({"text": "*t*", "blocks": [block]}) == [Span("bold", "b")]
    assert payload_formatting({"text": "*t* https://a.example"}) == [
        Span("bold", "t"),
        Span("autolink", "https://a.example"),
    ]
    plain = {"type": "section", "text": {"type": "plain_text", "text": "*p*"}}
    assert payload_formatting({"blocks": [plain]}) == []  # plain_text is never formatted
