"""Every operation the app needs has a client method, and each method really performs its operation."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
from pydantic import BaseModel

from marketplace_slack.marketplace.client import OPERATIONS, MarketplaceClient, Operation

from . import seeds
from .loopback import Reply, ScriptedServer
from .spec import generate, operation, seed_operations, success_response_schema

REQUIRED = seed_operations() | {("GET", "/api/auth/user")}
REGISTERED = {(op.method, op.path): op for op in OPERATIONS.values()}
EXAMPLES = {(example.method, example.path): example for example in seeds.load()}


def test_every_required_operation_has_a_client_method() -> None:
    missing = sorted(REQUIRED - REGISTERED.keys())
    assert not missing, f"operations without a client method: {missing}"
    for key in REQUIRED:
        method = getattr(MarketplaceClient, REGISTERED[key].client_method, None)
        assert inspect.iscoroutinefunction(method), key


def test_the_seed_list_is_the_one_the_reference_documents() -> None:
    # The reference's examples are the evidence the models are tested with; both lists must agree.
    assert set(EXAMPLES) == seed_operations()


@pytest.mark.parametrize("op", list(OPERATIONS.values()), ids=lambda op: op.operation_id)
def test_registered_operations_match_the_spec(op: Operation) -> None:
    assert operation(op.method, op.path)["operationId"] == op.operation_id
    # Method names follow the operationId, so the spec is the index to the client.
    expected = "get_current_user" if op.operation_id == "user" else _snake(op.operation_id)
    assert op.client_method == expected


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def _arguments(op: Operation, method: Callable[..., Any]) -> tuple[list[Any], dict[str, str]]:
    """Positional arguments for ``method``: distinct ids for path parameters, the example body."""
    hints = typing.get_type_hints(method)
    args: list[Any] = []
    path_values: dict[str, str] = {}
    for name, parameter in inspect.signature(method).parameters.items():
        if name == "self" or parameter.kind is not parameter.POSITIONAL_OR_KEYWORD:
            continue
        hint = hints[name]
        if inspect.isclass(hint) and issubclass(hint, BaseModel):
            args.append(hint.model_validate(EXAMPLES[(op.method, op.path)].request))
        else:
            value = f"{name} with/odd chars"
            args.append(value)
            wire_name = "requestId" if name == "request_id" else name
            path_values[wire_name] = value
    return args, path_values


@pytest.mark.parametrize("op", [REGISTERED[key] for key in sorted(REQUIRED)], ids=lambda op: op.operation_id)
async def test_each_method_performs_its_operation(op: Operation, server: ScriptedServer) -> None:
    example = EXAMPLES.get((op.method, op.path))
    if example is not None:
        body = example.response
    else:  # GET /api/auth/user has no example in the reference; the spec's schema makes one
        schema = success_response_schema(op.method, op.path)
        body = generate(schema) if schema else None
    server.script(Reply(status=200, json=body) if body is not None else Reply(status=204))

    async with MarketplaceClient(server.base_url, "sbx_test") as client:
        method = getattr(client, op.client_method)
        args, path_values = _arguments(op, getattr(MarketplaceClient, op.client_method))
        result = await method(*args)

    (seen,) = server.seen
    assert seen.method == op.method
    expected_path = op.path
    for name, value in path_values.items():
        expected_path = expected_path.replace("{" + name + "}", quote(value, safe=""))
    assert seen.path == "/marketplace" + expected_path
    assert "{" not in seen.path
    if example is not None and example.has_request:
        assert seen.body is not None
    returns = typing.get_type_hints(getattr(MarketplaceClient, op.client_method))["return"]
    assert (result is None) == (returns is type(None))
