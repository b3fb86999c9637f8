"""The vendor's OpenAPI spec, made checkable, and adapters from httpx to openapi-core.

The vendor spec cannot be used verbatim: some of its schemas contradict themselves, so that no
response (or no spec validator) could ever pass. Each repair below names the defect and is as
narrow as the defect; docs/sandbox.md lists them too. Nothing else in the spec is touched, and the
sandbox's responses are validated against everything the vendor meant.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import yaml
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.templating.paths.finders import APICallPathFinder
from werkzeug.datastructures import Headers, ImmutableMultiDict

DATA = Path(__file__).parent.parent / "data"
SPEC_PATH = DATA / "marketplace-openapi.yml"
SEED_OPERATIONS = DATA / "seed_operations.txt"
# The sandbox stands in for the vendor's server; requests are presented to the spec as sent there.
SPEC_SERVER = "https://na.api.immutacloud.com"

_ECMA_NAME_PATTERN = r"^[\p{L}\p{M}\p{N})(\-_/\\\s]*$"
# Python's re has no \p{..} classes; \w is Unicode letters and digits (plus _, which the class has).
_PYTHON_NAME_PATTERN = r"^[\w)(\-_/\\\s]*$"


def _walk(node: Any, fix: Callable[[dict[str, Any]], None]) -> None:
    if isinstance(node, dict):
        fix(node)
        for value in node.values():
            _walk(value, fix)
    elif isinstance(node, list):
        for value in node:
            _walk(value, fix)


def _ecma_pattern(node: dict[str, Any]) -> None:
    """Names use an ECMAScript Unicode pattern Python's ``re`` cannot compile; use its equivalent."""
    if node.get("pattern") == _ECMA_NAME_PATTERN:
        node["pattern"] = _PYTHON_NAME_PATTERN


def _implicit_discriminator(node: dict[str, Any]) -> None:
    """Discriminators without a mapping point at ``#/components/schemas/<type>`` (e.g. ``review``,
    ``DROPDOWN``), which do not exist. The oneOf branches pin ``type`` by enum already, so the
    oneOf alone discriminates; the broken discriminator is dropped."""
    if "discriminator" in node and "mapping" not in node["discriminator"]:
        del node["discriminator"]


def _duplicate_branches(node: dict[str, Any]) -> None:
    """``createdAt``/``updatedAt`` of agreements and forms are ``oneOf`` two identical date-time
    branches: every value matches both, so oneOf could never hold. One branch is kept."""
    branches = node.get("oneOf")
    if isinstance(branches, list) and len(branches) > 1 and all(b == branches[0] for b in branches):
        node["oneOf"] = [branches[0]]


def _nullable_beside_oneof(node: dict[str, Any]) -> None:
    """``{oneOf: [...], nullable: true}`` without a ``type``: under OAS 3.0.3 nullable only works
    beside a type, so null fails the branches, yet fields like ``approverCriteriaMet`` are required
    and null on every undecided record. The vendor means nullable; it is moved into the branches."""
    if node.get("nullable") is True and "oneOf" in node and "type" not in node:
        node["oneOf"] = [dict(branch, nullable=True) for branch in node["oneOf"]]


def _overlapping_oneof(spec: dict[str, Any]) -> None:
    """Two oneOfs whose branches overlap, so the fuller shape always matches twice: the risk
    assessment (the pending form only requires ``approvalRisk``, which every full assessment has)
    and its cohort literal (``{name, value}`` also matches ``{name}``). They become anyOf."""
    schemas = spec["components"]["schemas"]
    risk = schemas["RiskAssessmentResponse"]
    risk["anyOf"] = risk.pop("oneOf")
    literal = risk["anyOf"][0]["properties"]["cohort"]["properties"]["literals"]["items"]["allOf"][0]
    literal["anyOf"] = literal.pop("oneOf")


def _ambiguous_parameter_default(spec: dict[str, Any]) -> None:
    """``nameFilter`` of a product's data sources defaults to "", which matches both of its oneOf
    branches; the spec validator rejects the spec for it. It becomes anyOf."""
    for parameter in spec["paths"]["/api/data-product/{id}/datasources"]["get"]["parameters"]:
        if parameter["name"] == "nameFilter":
            parameter["schema"]["anyOf"] = parameter["schema"].pop("oneOf")


# Response fields the reference shows and the vendor sends as null when they have no value (a request
# not decided, a grant without an expiration), where the spec's type leaves null out.
UNSET_AS_NULL = {
    "DataProduct": ("requestId",),
    "PaginatedDataProduct/properties/data/items": ("requestId",),
    "HydratedAccessRequest": ("expiration",),
    "PaginatedAccessRequest/properties/data/items": ("expiration",),
    "ApprovalRecord": ("actionBy", "reason"),
    "ApprovalRecords/properties/approvalRecords/items": ("actionBy", "reason"),
    "RecentDeterminations/properties/determinations/items": ("reason", "expiration"),
    "ImmutaTagSearchResponse/items": ("dataProductName",),
}
# Response schemas carrying review flows, whose approve and deny params are all sent, null when unset.
FLOW_RESPONSES = (
    "DataProduct",
    "PaginatedDataProduct",
    "RequestForm",
    "PaginatedRequestForm",
    "DataProductRequestForm",
)
EVENT_PARAMS = {"comment", "duration", "durationUnit"}


def _unset_as_null(spec: dict[str, Any]) -> None:
    """The reference shows every field, and fields without a value as null; the spec types some of them
    without ``nullable``. Exactly those response fields (and the params of approve and deny events in
    response bodies) become nullable."""
    schemas = spec["components"]["schemas"]
    for where, names in UNSET_AS_NULL.items():
        node = schemas
        for part in where.split("/"):
            node = node[part]
        for name in names:
            node["properties"][name]["nullable"] = True

    def params(node: dict[str, Any]) -> None:
        found = node.get("properties", {}).get("params", {}).get("properties", {})
        if found and set(found) <= EVENT_PARAMS:
            for param in found.values():
                param["nullable"] = True
                if "enum" in param:  # a nullable enum must list null as well
                    param["enum"] = [*param["enum"], None]

    for name in FLOW_RESPONSES:
        _walk(schemas[name], params)


def repaired_spec() -> dict[str, Any]:
    spec: dict[str, Any] = yaml.load(SPEC_PATH.read_text(), Loader=yaml.CSafeLoader)
    for fix in (_ecma_pattern, _implicit_discriminator, _duplicate_branches, _nullable_beside_oneof):
        _walk(spec, fix)
    _overlapping_oneof(spec)
    _ambiguous_parameter_default(spec)
    _unset_as_null(spec)
    return spec


def _cuid(value: object) -> bool:
    return not isinstance(value, str) or re.fullmatch(r"c[a-z0-9]{24}", value) is not None


def _uuid(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        return str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


def _timestamp(value: object) -> bool:
    """ISO-8601 in UTC with a ``Z``, as the vendor's examples write it."""
    if not isinstance(value, str):
        return True
    if re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z", value) is None:
        return False
    datetime.fromisoformat(value.replace("Z", "+00:00"))
    return True


def _email(value: object) -> bool:
    return not isinstance(value, str) or re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value) is not None


def _uri(value: object) -> bool:
    return not isinstance(value, str) or re.fullmatch(r"https?://[^\s]+", value) is not None


# Formats the stock OAS 3.0 checker leaves unchecked; the sandbox must get them right.
FORMATS: dict[str, Callable[[object], bool]] = {
    "cuid": _cuid,
    "uuid": _uuid,
    "date-time": _timestamp,
    "iso_format": _timestamp,
    "email": _email,
    "uri": _uri,
}


def load() -> OpenAPI:
    # from_dict rather than from_file_path: the spec has to be repaired before it can be used.
    return OpenAPI.from_dict(repaired_spec(), config=Config(extra_format_validators=FORMATS))


def seed_operations() -> set[str]:
    return {line.strip() for line in SEED_OPERATIONS.read_text().splitlines() if line.strip()}


class SpecRequest:
    """An httpx request as openapi-core sees requests, addressed to the vendor's server."""

    def __init__(self, request: httpx.Request) -> None:
        self.method = request.method.lower()
        self.host_url = SPEC_SERVER
        self.path = request.url.path
        self.body: bytes | None = request.content or None
        self.content_type = request.headers.get("content-type", "application/json")
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(list(request.url.params.multi_items())),
            header=Headers(dict(request.headers)),
            cookie=ImmutableMultiDict(),
        )


class SpecResponse:
    def __init__(self, response: httpx.Response) -> None:
        self.status_code = response.status_code
        self.data: bytes | None = response.content
        self.content_type = response.headers.get("content-type", "")
        self.headers = Headers(dict(response.headers))


def operation_of(openapi: OpenAPI, request: httpx.Request) -> str:
    """``METHOD /template`` of the spec operation a request addresses, as the spec resolves it."""
    found = APICallPathFinder(openapi.spec).find(request.method.lower(), SPEC_SERVER + request.url.path)
    return f"{request.method} {found.path_result.pattern}"
