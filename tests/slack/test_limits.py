"""How Slack counts the characters the renderers' budgets are measured in."""

from __future__ import annotations

from marketplace_slack.slack.limits import measure


def test_measure_counts_utf16_units() -> None:
    assert measure("abc") == 3
    assert measure("😀") == 2
    assert measure("é") == 1
