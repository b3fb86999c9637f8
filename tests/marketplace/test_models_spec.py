"""The wire models agree with the vendor's OpenAPI spec and its reference examples.

The client's method signatures link each operation to its models (the body parameter and the return
annotation), so these tests check every operation the app uses without a hand-kept list.
"""

from __future__ import annotations

import inspect
import json
import typing
from enum import StrEnum
from typing import Any

import pytest
from openapi_schema_validator import OAS30Validator
from pydantic import BaseModel, TypeAdapter, ValidationError

from marketplace_slack.marketplace import models as m
from marketplace_slack.marketplace.client import OPERATIONS, MarketplaceClient, Operation

from . import seeds
from .spec import (
    enums_under,
    generate,
    operation,
    pointer,
    request_body_schema,
    resolve,
    seed_operations,
    success_response_schema,
)

REQUIRED = seed_operations() | {("GET", "/api/auth/user")}
OPS = [op for op in OPERATIONS.values() if (op.method, op.path) in REQUIRED]
S = "#/components/schemas"


def _param(method: str, path: str, name: str) -> dict[str, Any]:
    for parameter in operation(method, path)["parameters"]:
        if parameter["name"] == name:
            schema: dict[str, Any] = parameter["schema"]
            items: dict[str, Any] = schema.get("items", schema)
            return items
    raise KeyError(name)


def _enum(ref: str) -> list[Any]:
    values: list[Any] = pointer(ref)["enum"]
    return values


def _union(ref: str) -> list[Any]:
    """The tags of a ``oneOf``'s variants, in order (``{ref}/oneOf/*/properties/type`` or nested)."""
    values: list[Any] = []
    for variant in pointer(ref)["oneOf"]:
        values.extend(variant["properties"]["type"]["enum"] if "properties" in variant else variant["enum"])
    return values


APPROVERS = f"{S}/ApprovalRecord/properties/approvers/items"
POLICY_EVENTS = f"{S}/RequestForm/properties/policy/properties/defaultEvent"
SEARCH = ("GET", "/api/access-request")

# Each model enum, and every place in the spec whose enum it must equal (values and order).
ENUM_LOCATIONS: list[tuple[type[StrEnum], list[list[Any]]]] = [
    (
        m.AccessRequestStatus,
        [
            _enum(f"{S}/HydratedAccessRequest/properties/status"),
            _enum(f"{S}/DataProduct/properties/status"),
            _param(*SEARCH, "status")["enum"],
            _param("GET", "/api/data-product", "statusFilter")["enum"],
        ],
    ),
    (
        m.ApprovalRecordStatus,
        [
            _enum(f"{S}/ApprovalRecord/properties/status"),
            _enum(f"{S}/UpdateApprovalRecordRequest/properties/status"),
            _enum(f"{S}/RecentDeterminations/properties/determinations/items/properties/status"),
        ],
    ),
    (m.RiskRecommendation, [_union(f"{S}/RiskAssessmentResponse/oneOf/0/properties/recommendation")]),
    (
        m.DurationUnit,
        [
            _enum(f"{S}/UpdateApprovalRecordRequest/properties/durationUnit"),
            _enum(f"{POLICY_EVENTS}/oneOf/0/properties/params/properties/durationUnit"),
        ],
    ),
    (
        m.ApproverType,
        [_union(APPROVERS), _union(f"{S}/ApprovalRecord/properties/approverCriteriaMet/oneOf/0/items")],
    ),
    (m.GlobalPermission, [_enum(f"{APPROVERS}/oneOf/2/properties/permission")]),
    (m.DomainPermission, [_enum(f"{APPROVERS}/oneOf/3/properties/permission")]),
    (
        m.RiskLevel,
        [
            _enum(f"{S}/RiskAssessmentResponse/oneOf/0/properties/approvalRisk"),
            _enum(f"{S}/RiskAssessmentResponse/oneOf/1/properties/approvalRisk"),
        ],
    ),
    (
        m.RequestType,
        [
            _enum(f"{S}/HydratedAccessRequest/properties/type"),
            _enum(f"{S}/DataProductRequestForm/properties/requestType"),
            _enum(f"{S}/LinkedDataProducts/items/properties/requestTypes/items"),
            _param("GET", "/api/data-product/{id}/recent-determinations", "type")["enum"],
        ],
    ),
    (m.FormFieldType, [_union(f"{S}/RequestForm/properties/fields/items")]),
    (m.PolicyEventType, [_union(POLICY_EVENTS)]),
    (
        m.DataSourceSubscriptionStatus,
        [_enum(f"{S}/PaginatedDataSourceWithStatus/properties/data/items/properties/status")],
    ),
    (m.AssetType, [_param(*SEARCH, "assetType")["enum"], _enum(f"{S}/LinkedAssets/items/properties/type")]),
    (
        m.Technology,
        [_enum(f"{S}/HydratedAccessRequest/properties/asset/properties/metadata/properties/technology")],
    ),
    (
        m.SortOrder,
        [_param(*SEARCH, "sortOrder")["enum"], _param("GET", "/api/data-product", "sortOrder")["enum"]],
    ),
    (m.ColumnSortDirection, [_param("GET", "/api/data-product/{id}/columns", "dir")["enum"]]),
    (m.AccessRequestSortBy, [_param(*SEARCH, "sortBy")["enum"]]),
    (m.DataProductSortBy, [_param("GET", "/api/data-product", "sortBy")["enum"]]),
    (
        m.CatalogSortBy,
        [
            _param("GET", "/api/request-form", "sortBy")["enum"],
            _param("GET", "/api/data-use-agreement", "sortBy")["enum"],
        ],
    ),
    (m.ReviewStatusFilter, [_param(*SEARCH, "reviewStatus")["enum"]]),
    (m.AccessRequestRole, [_param(*SEARCH, "role")["enum"]]),
    (m.DataProductRole, [_param("GET", "/api/data-product", "roleFilter")["enum"]]),
]


@pytest.mark.parametrize(("enum", "locations"), ENUM_LOCATIONS, ids=lambda x: getattr(x, "__name__", ""))
def test_enum_equals_the_spec(enum: type[StrEnum], locations: list[list[Any]]) -> None:
    for spec_values in locations:
        assert [member.value for member in enum] == spec_values


def test_webhook_test_status_equals_the_spec_including_its_ordinals() -> None:
    spec_values = _enum(f"{S}/WebhookTestResult/properties/status")
    ours = [member.value for member in m.WebhookTestStatus] + list(m.WEBHOOK_TEST_STATUS_BY_CODE)
    assert ours == spec_values
    assert [m.WEBHOOK_TEST_STATUS_BY_CODE[code] for code in (0, 1, 2)] == list(m.WebhookTestStatus)


def _operation_schemas() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for op in OPS:
        for schema in (success_response_schema(op.method, op.path), request_body_schema(op.method, op.path)):
            if schema is not None:
                found.append((op.operation_id, schema))
        for parameter in operation(op.method, op.path).get("parameters", []):
            found.append((op.operation_id, parameter["schema"]))
    return found


# Constants of the spec that are not enumerations in any useful sense.
NOT_ENUMS = [["How long do you need access to this data?"], [True]]


def test_every_spec_enum_the_app_meets_has_a_model_enum() -> None:
    model_enums: list[set[Any]] = [{member.value for member in enum} for enum, _ in ENUM_LOCATIONS]
    model_enums.append({member.value for member in m.WebhookTestStatus} | set(m.WEBHOOK_TEST_STATUS_BY_CODE))
    missing = set()
    for operation_id, schema in _operation_schemas():
        for where, values in enums_under(schema):
            if values in NOT_ENUMS:
                continue
            if not any(set(values) <= known for known in model_enums):
                missing.add((operation_id, where, tuple(values)))
    assert not missing


# --------------------------------------------------------------------------------------------------
# Responses: instances generated from the spec's schemas parse, fully and losslessly.
# --------------------------------------------------------------------------------------------------


def _method(op: Operation) -> Any:
    return getattr(MarketplaceClient, op.client_method)


def _return_type(op: Operation) -> Any:
    return typing.get_type_hints(_method(op))["return"]


def _body_type(op: Operation) -> type[BaseModel]:
    hint: type[BaseModel] = typing.get_type_hints(_method(op))["body"]
    return hint


RESPONSE_OPS = [op for op in OPS if success_response_schema(op.method, op.path) is not None]
REQUEST_OPS = [op for op in OPS if request_body_schema(op.method, op.path) is not None]


def _extras(value: Any, where: str = "$") -> list[str]:
    """Paths of every field a model kept as an unmodelled extra."""
    found: list[str] = []
    if isinstance(value, BaseModel):
        found.extend(f"{where}.{key}" for key in value.model_extra or {})
        for name in type(value).model_fields:
            found.extend(_extras(getattr(value, name), f"{where}.{name}"))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_extras(item, f"{where}[{index}]"))
    return found


def _dump(adapter: TypeAdapter[Any], value: Any) -> Any:
    return adapter.dump_python(value, mode="json", by_alias=True, exclude_unset=True)


@pytest.mark.parametrize("op", RESPONSE_OPS, ids=lambda op: op.operation_id)
@pytest.mark.parametrize("variant", [0, 1, 2, 3])
def test_response_model_covers_the_spec_schema(op: Operation, variant: int) -> None:
    schema = success_response_schema(op.method, op.path)
    assert schema is not None
    body = generate(schema, variant)
    adapter = TypeAdapter(_return_type(op))
    parsed = adapter.validate_python(body)
    assert _extras(parsed) == [], "spec properties the model does not declare"
    assert _dump(adapter, parsed) == body


@pytest.mark.parametrize("op", RESPONSE_OPS, ids=lambda op: op.operation_id)
def test_response_model_requires_no_more_than_the_spec(op: Operation) -> None:
    schema = success_response_schema(op.method, op.path)
    assert schema is not None
    body = generate(schema, minimal=True)
    adapter = TypeAdapter(_return_type(op))
    assert _dump(adapter, adapter.validate_python(body)) == body


@pytest.mark.parametrize("op", RESPONSE_OPS, ids=lambda op: op.operation_id)
def test_response_with_unknown_enum_values_still_parses(op: Operation) -> None:
    schema = success_response_schema(op.method, op.path)
    assert schema is not None
    body = _with_unknown_enums(generate(schema), schema)
    adapter = TypeAdapter(_return_type(op))
    assert _dump(adapter, adapter.validate_python(body)) == body


def _with_unknown_enums(value: Any, schema: dict[str, Any]) -> Any:
    """``value`` with every string enum replaced by a value the spec does not list (yet)."""
    schema = resolve(schema)
    if "enum" in schema and isinstance(value, str) and schema["enum"] not in NOT_ENUMS:
        return "SOMETHING_NEW"
    if "oneOf" in schema or "allOf" in schema:
        for option in schema.get("oneOf", []) + schema.get("allOf", []):
            changed = _with_unknown_enums(value, option)
            if changed != value:
                return changed
        return value
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        return {key: _with_unknown_enums(item, properties.get(key, {})) for key, item in value.items()}
    if isinstance(value, list) and "items" in schema:
        return [_with_unknown_enums(item, schema["items"]) for item in value]
    return value


# --------------------------------------------------------------------------------------------------
# Request bodies.
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("op", REQUEST_OPS, ids=lambda op: op.operation_id)
@pytest.mark.parametrize("variant", [0, 1, 2, 3])
def test_request_model_covers_the_spec_schema(op: Operation, variant: int) -> None:
    schema = request_body_schema(op.method, op.path)
    assert schema is not None
    body = generate(schema, variant)
    model = _body_type(op)
    parsed = model.model_validate(body)  # strict bodies would reject an undeclared property here
    assert _extras(parsed) == []
    assert parsed.model_dump(mode="json", exclude_unset=True) == body


@pytest.mark.parametrize("op", REQUEST_OPS, ids=lambda op: op.operation_id)
def test_request_model_requires_what_the_spec_requires(op: Operation) -> None:
    schema = request_body_schema(op.method, op.path)
    assert schema is not None
    model = _body_type(op)
    minimal = generate(schema, minimal=True)
    model.model_validate(minimal)
    for name in schema.get("required", []):
        with pytest.raises(ValidationError):
            model.model_validate({key: value for key, value in minimal.items() if key != name})


STRICT_BODIES = [op for op in REQUEST_OPS if issubclass(_body_type(op), m.RequestBody)]


@pytest.mark.parametrize("op", STRICT_BODIES, ids=lambda op: op.operation_id)
def test_strict_request_bodies_reject_unknown_fields(op: Operation) -> None:
    schema = request_body_schema(op.method, op.path)
    assert schema is not None
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        _body_type(op).model_validate({**generate(schema), "surprise": 1})


def test_the_bodies_the_app_sends_are_valid_for_the_spec() -> None:
    bodies: list[tuple[str, BaseModel]] = [
        (
            "UpdateApprovalRecordRequest",
            m.UpdateApprovalRecordRequest(
                status=m.ApprovalRecordStatus.APPROVED,
                reason="ok",
                duration=7,
                duration_unit=m.DurationUnit.DAYS,
            ),
        ),
        (
            "UpdateApprovalRecordRequest",
            m.UpdateApprovalRecordRequest(status="DENIED", reason="no", duration=None),
        ),
        (
            "CreateAccessRequest",
            m.CreateAccessRequest(user="123e4567-e89b-12d3-a456-426614174000", form={"f1": "x"}),
        ),
        (
            "CreateMaskingExceptionRequest",
            m.CreateMaskingExceptionRequest(
                user="123e4567-e89b-12d3-a456-426614174000",
                columns=[m.ColumnRef(column_name="email", source_id="7")],
            ),
        ),
        ("CreateWebhook", m.CreateWebhookRequest(url="https://hooks.example.com/x", signing_key="k")),
    ]
    for name, body in bodies:
        OAS30Validator(pointer(f"{S}/{name}")).validate(body.model_dump(mode="json", exclude_unset=True))


def test_update_approval_record_request_validates_its_fields() -> None:
    m.UpdateApprovalRecordRequest(status="APPROVED", duration=1, duration_unit="HOURS")
    for bad in (
        {"status": "MAYBE"},  # we only ever send statuses we know
        {"status": "APPROVED", "duration": 0},
        {"status": "APPROVED", "durationUnit": "DECADES"},
        {"reason": "missing status"},
    ):
        with pytest.raises(ValidationError):
            m.UpdateApprovalRecordRequest.model_validate(bad)


# --------------------------------------------------------------------------------------------------
# The reference's example bodies.
# --------------------------------------------------------------------------------------------------

EXAMPLES = {(example.method, example.path): example for example in seeds.load()}
OPS_BY_KEY = {(op.method, op.path): op for op in OPS}


def test_committed_examples_match_the_reference() -> None:
    assert seeds.extract(seeds.reference_text()) == json.loads(seeds.EXAMPLES.read_text())


@pytest.mark.parametrize("key", sorted(k for k, e in EXAMPLES.items() if e.has_response), ids=" ".join)
def test_reference_response_example_parses_and_round_trips(key: tuple[str, str]) -> None:
    example = EXAMPLES[key]
    adapter = TypeAdapter(_return_type(OPS_BY_KEY[key]))
    parsed = adapter.validate_python(example.response)
    assert _extras(parsed) == [], "fields the reference shows that the model does not declare"
    assert _dump(adapter, parsed) == example.response


@pytest.mark.parametrize("key", sorted(k for k, e in EXAMPLES.items() if e.has_request), ids=" ".join)
def test_reference_request_example_is_a_valid_body(key: tuple[str, str]) -> None:
    example = EXAMPLES[key]
    model = _body_type(OPS_BY_KEY[key])
    parsed = model.model_validate(example.request)
    sent = parsed.model_dump(mode="json", exclude_unset=True)
    if issubclass(model, m.RequestBody):  # strict bodies leave nulls out rather than send them
        assert sent == {k: v for k, v in example.request.items() if v is not None}
    else:
        assert sent == example.request


def test_every_operation_with_a_body_takes_a_model() -> None:
    for op in REQUEST_OPS:
        parameters = inspect.signature(_method(op)).parameters
        assert "body" in parameters, op.operation_id


# --------------------------------------------------------------------------------------------------
# Tolerance of what the vendor adds later, and naming.
# --------------------------------------------------------------------------------------------------

USER = {"id": 1, "iamId": "bim", "globalUserId": "u1", "username": "rick", "name": "Rick"}
RECORD: dict[str, Any] = {
    "id": "r1",
    "dataAccessRequestId": "q1",
    "approvers": [
        {"type": "USER", "id": "u2", "displayName": "Sara"},
        {"type": "SERVICE ACCOUNT", "id": "svc-9", "scopes": ["approve"]},
        {"type": "PERMISSION", "permission": "SUPERUSER"},
    ],
    "prerequisites": [],
    "actionBy": {**USER, "department": "Sales"},
    "status": "ESCALATED",
    "createdAt": "2026-11-23T09:00:00.000Z",
    "updatedAt": "2026-11-23T09:00:00.000Z",
    "approverCriteriaMet": None,
    "duration": None,
    "durationUnit": "DECADES",
    "slaDeadline": "2026-11-24T09:00:00.000Z",
}


def test_unknown_fields_and_enum_values_are_kept() -> None:
    record = m.ApprovalRecord.model_validate(RECORD)
    assert record.status == "ESCALATED"
    assert not isinstance(record.status, m.ApprovalRecordStatus)
    user, service, permission = record.approvers
    assert isinstance(user, m.UserApprover)
    assert isinstance(service, m.UnknownApprover)
    assert service.type == "SERVICE ACCOUNT"
    assert service.model_extra == {"id": "svc-9", "scopes": ["approve"]}
    assert isinstance(permission, m.PermissionApprover)
    assert permission.permission == "SUPERUSER"
    assert record.model_extra == {"slaDeadline": "2026-11-24T09:00:00.000Z"}
    assert record.action_by is not None
    assert record.action_by.model_extra == {"department": "Sales"}
    assert record.model_dump(mode="json", exclude_unset=True) == RECORD


def test_known_enum_values_become_members() -> None:
    record = m.ApprovalRecord.model_validate(
        {**RECORD, "status": "PENDING", "durationUnit": "DAYS", "approvers": [RECORD["approvers"][0]]}
    )
    assert record.status is m.ApprovalRecordStatus.PENDING
    assert record.duration_unit is m.DurationUnit.DAYS
    risk = m.RiskAssessment.model_validate({"approvalRisk": "PENDING"})
    assert risk.approval_risk is m.RiskLevel.PENDING
    assert risk.conflict_detected is None  # still being assessed


def test_unknown_tags_in_forms_and_policies_parse() -> None:
    form_field = TypeAdapter(m.FormField).validate_python(
        {"id": "f9", "type": "DATE_PICKER", "label": "When?"}
    )
    assert isinstance(form_field, m.UnknownFormField)
    event = TypeAdapter(m.PolicyEvent).validate_python({"type": "escalate", "params": {"to": "CISO"}})
    assert isinstance(event, m.UnknownPolicyEvent)
    result = m.WebhookTestResult.model_validate({"status": 1, "httpStatusCode": 200})
    assert result.status == 1
    assert m.WebhookTestResult.model_validate({"status": "SUCCESS", "httpStatusCode": 200}).status is (
        m.WebhookTestStatus.SUCCESS
    )


def test_snake_case_in_python_camel_case_on_the_wire() -> None:
    by_name = m.UpdateApprovalRecordRequest(
        status=m.ApprovalRecordStatus.APPROVED, duration=2, duration_unit="WEEKS"
    )
    by_alias = m.UpdateApprovalRecordRequest.model_validate(
        {"status": "APPROVED", "duration": 2, "durationUnit": "WEEKS"}
    )
    assert by_name == by_alias
    assert by_name.model_dump(mode="json", exclude_unset=True) == {
        "status": "APPROVED",
        "duration": 2,
        "durationUnit": "WEEKS",
    }
    assert m.CurrentUser.model_fields["chameleon_uid"].alias == "chameleonUID"


def test_timestamps_are_datetimes_and_write_back_unchanged() -> None:
    record = m.ApprovalRecord.model_validate({**RECORD, "createdAt": "2026-11-23T09:00:00.123Z"})
    assert record.created_at.microsecond == 123000
    assert record.created_at.utcoffset() is not None
    assert record.model_dump(mode="json", exclude_unset=True)["createdAt"] == "2026-11-23T09:00:00.123Z"
