"""Which Slack channel a request's card goes to: a default, overridden by domain, then by data product.

Routes come from the `routes:` section of the configuration file (`MPSLACK_CONFIG_FILE`, see
`config_file.py`). A route may also say how reminders for its requests are delivered:

    routes:
      - domain: Sales            # a domain name or id
        channel: C0SALES
      - product: Customer 360    # a data product name or id; wins over its domain
        channel: C0CUSTOMER
        reminders: dm            # thread (in the card's thread), dm, or off; default: reminders.mode
        owner: U0GINA            # told in a DM when the app cannot post in the channel; default:
                                 # the file's top-level `channel_owner`
      - domain: Finance
        channel: C0FINANCE
        decisions: marketplace   # notify only: cards without Approve/Deny, "Review in Marketplace"
                                 # instead, and a click on an older card's button is refused;
                                 # default: slack (decide on the card)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

# A Slack user id (U… or, in Enterprise Grid, W…): a DM goes to a person, not to a name.
SLACK_USER_ID = r"^[UW][A-Z0-9]{2,}$"


class Route(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: str
    domain: str | None = None
    product: str | None = None
    reminders: Literal["thread", "dm", "off"] | None = None
    owner: str | None = Field(default=None, pattern=SLACK_USER_ID)
    # Where its requests are decided: on the card (slack), or only in the Marketplace (notify only),
    # for companies whose policy forbids deciding in chat.
    decisions: Literal["slack", "marketplace"] = "slack"

    @model_validator(mode="after")
    def _one_key(self) -> Route:
        if (self.domain is None) == (self.product is None):
            raise ValueError("a route names exactly one of `domain` or `product`")
        return self


@dataclass(frozen=True)
class Router:
    default_channel: str
    by_product: dict[str, Route] = field(default_factory=dict)
    by_domain: dict[str, Route] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)  # channel -> the Slack user answering for it
    default_owner: str | None = None

    def route_for(
        self,
        *,
        product_id: str,
        product_name: str,
        domain_id: str | None = None,
        domain_name: str | None = None,
    ) -> Route | None:
        """The route that applies: the product's, else its domain's, else None (the defaults)."""
        for key in (product_id, product_name.casefold()):
            if key in self.by_product:
                return self.by_product[key]
        for domain_key in (domain_id, domain_name.casefold() if domain_name else None):
            if domain_key and domain_key in self.by_domain:
                return self.by_domain[domain_key]
        return None

    def channel_for(
        self,
        *,
        product_id: str,
        product_name: str,
        domain_id: str | None = None,
        domain_name: str | None = None,
    ) -> str:
        route = self.route_for(
            product_id=product_id, product_name=product_name, domain_id=domain_id, domain_name=domain_name
        )
        return route.channel if route is not None else self.default_channel

    def notify_only(
        self,
        *,
        product_id: str,
        product_name: str,
        domain_id: str | None = None,
        domain_name: str | None = None,
    ) -> bool:
        """Whether the request's route says it is decided in the Marketplace only, never from Slack.

        Asked when a card is drawn and again at every click and submit, so a route made notify-only
        after its cards were posted refuses their old buttons."""
        route = self.route_for(
            product_id=product_id, product_name=product_name, domain_id=domain_id, domain_name=domain_name
        )
        return route is not None and route.decisions == "marketplace"

    def owner_for(self, channel: str) -> str | None:
        """Who is told when cards cannot go to `channel`: its route's owner, else the default one."""
        return self.owners.get(channel, self.default_owner)

    @classmethod
    def from_routes(
        cls, default_channel: str, routes: list[Route], *, default_owner: str | None = None
    ) -> Router:
        by_product: dict[str, Route] = {}
        by_domain: dict[str, Route] = {}
        owners: dict[str, str] = {}
        for route in routes:
            if route.owner is not None:
                owners.setdefault(route.channel, route.owner)  # the first route naming one wins
            if route.product is not None:
                by_product[route.product] = by_product[route.product.casefold()] = route
            elif route.domain is not None:
                by_domain[route.domain] = by_domain[route.domain.casefold()] = route
        return cls(default_channel, by_product, by_domain, owners, default_owner)
