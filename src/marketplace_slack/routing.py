"""Which Slack channel a request's card goes to: a default, overridden by domain, then by data product.

Routes come from an optional YAML file (`MPSLACK_ROUTES_FILE`):

    routes:
      - domain: Sales            # a domain name or id
        channel: C0SALES
      - product: Customer 360    # a data product name or id; wins over its domain
        channel: C0CUSTOMER
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator


class RoutesError(Exception):
    """The routes file is unusable; the message names the file and the problem."""


class Route(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: str
    domain: str | None = None
    product: str | None = None

    @model_validator(mode="after")
    def _one_key(self) -> Route:
        if (self.domain is None) == (self.product is None):
            raise ValueError("a route names exactly one of `domain` or `product`")
        return self


class RoutesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    routes: list[Route] = []


@dataclass(frozen=True)
class Router:
    default_channel: str
    by_product: dict[str, str] = field(default_factory=dict)
    by_domain: dict[str, str] = field(default_factory=dict)

    def channel_for(
        self,
        *,
        product_id: str,
        product_name: str,
        domain_id: str | None = None,
        domain_name: str | None = None,
    ) -> str:
        for key in (product_id, product_name.casefold()):
            if key in self.by_product:
                return self.by_product[key]
        for domain_key in (domain_id, domain_name.casefold() if domain_name else None):
            if domain_key and domain_key in self.by_domain:
                return self.by_domain[domain_key]
        return self.default_channel

    @classmethod
    def from_routes(cls, default_channel: str, routes: list[Route]) -> Router:
        by_product: dict[str, str] = {}
        by_domain: dict[str, str] = {}
        for route in routes:
            if route.product is not None:
                by_product[route.product] = by_product[route.product.casefold()] = route.channel
            elif route.domain is not None:
                by_domain[route.domain] = by_domain[route.domain.casefold()] = route.channel
        return cls(default_channel, by_product, by_domain)


def load_router(default_channel: str, path: Path | None) -> Router:
    if path is None:
        return Router(default_channel)
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        parsed = RoutesFile.model_validate(raw)
    except OSError as exc:
        raise RoutesError(f"{path}: cannot be read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise RoutesError(f"{path}: is not valid YAML ({exc})") from None
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors(include_url=False)
        )
        raise RoutesError(f"{path}: {problems}") from None
    return Router.from_routes(default_channel, parsed.routes)
