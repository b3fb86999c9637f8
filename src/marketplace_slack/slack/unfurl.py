"""The unfurl of a Marketplace data-product link: the product at a glance, and Request access."""

from __future__ import annotations

from typing import Any, Final

from marketplace_slack.domain.forms import ProductChoice
from marketplace_slack.slack import ids
from marketplace_slack.slack.mrkdwn import (
    button,
    context_block,
    escape_line,
    escape_lines,
    safe_url,
    section_block,
)

DESCRIPTION_MAX: Final = 600
NAME_MAX: Final = 200
STEWARDS_SHOWN: Final = 5


def product_unfurl(product: ProductChoice) -> dict[str, Any]:
    """The `unfurls[url]` value for `chat.unfurl`: blocks, all user text escaped and clipped."""
    lines = [f"*{escape_line(product.name, NAME_MAX) or 'A data product'}*"]
    description = escape_lines(product.description, DESCRIPTION_MAX)
    if description:
        lines.append(description)
    facts: list[str] = []
    if product.domain:
        facts.append(f"Domain: {escape_line(product.domain, 100)}")
    if product.stewards:
        shown = ", ".join(escape_line(s, 80) for s in product.stewards[:STEWARDS_SHOWN])
        more = len(product.stewards) - STEWARDS_SHOWN
        facts.append(f"Reviewed by {shown}" + (f" and {more} more" if more > 0 else ""))
    blocks: list[dict[str, Any]] = [section_block("\n".join(lines))]
    if facts:
        blocks.append(context_block(" · ".join(facts)))
    elements = [button("Request access", ids.START_REQUEST, value=product.id, style="primary")]
    url = safe_url(product.url)
    if url is not None:
        elements.append(button("Open in Marketplace", ids.OPEN_IN_MARKETPLACE, value=product.id, url=url))
    blocks.append({"type": "actions", "elements": elements})
    return {"blocks": blocks}
