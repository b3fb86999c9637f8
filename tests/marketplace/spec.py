"""The vendor's OpenAPI spec, read for tests: operations, schemas, and instances generated from them."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml

SPEC_PATH = Path(__file__).parents[1] / "data" / "marketplace-openapi.yml"
SEED_OPERATIONS = Path(__file__).parents[1] / "data" / "seed_operations.txt"
HTTP_METHODS = ("get", "put", "post", "delete", "patch")


@functools.cache
def spec() -> dict[str, Any]:
    with SPEC_PATH.open() as handle:
        loaded: dict[str, Any] = yaml.load(handle, Loader=yaml.CSafeLoader)  # the C loader: 10x faster
    return loaded


def seed_operations() -> set[tuple[str, str]]:
    """(METHOD, path) of the operations the app relies on."""
    lines = SEED_OPERATIONS.read_text().splitlines()
    return {(method, path) for method, path in (line.split() for line in lines if line.strip())}


def operation(method: str, path: str) -> dict[str, Any]:
    op: dict[str, Any] = spec()["paths"][path][method.lower()]
    return op


def pointer(ref: str) -> Any:
    """The node at a JSON pointer such as ``#/components/schemas/ApprovalRecord/properties/status``."""
    node: Any = spec()
    for part in ref.lstrip("#/").split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = pointer(schema["$ref"])
    return schema


def success_response_schema(method: str, path: str) -> dict[str, Any] | None:
    """The JSON schema of the operation's 2xx response, or None if it has no body."""
    for code, response in operation(method, path)["responses"].items():
        if str(code).startswith("2"):
            content = response.get("content", {}).get("application/json")
            return resolve(content["schema"]) if content else None
    return None


def request_body_schema(method: str, path: str) -> dict[str, Any] | None:
    body = operation(method, path).get("requestBody")
    return resolve(body["content"]["application/json"]["schema"]) if body else None


SAMPLE_STRINGS = {
    "date-time": "2025-10-29T15:35:14.436Z",
    "iso_format": "2025-01-09T12:34:56.000Z",
    "uuid": "123e4567-e89b-12d3-a456-426614174000",
    "email": "someone@example.com",
    "uri": "https://hooks.example.com/marketplace",
}


def generate(schema: dict[str, Any], variant: int = 0, *, minimal: bool = False) -> Any:
    """A JSON value valid for ``schema``.

    ``variant`` picks among ``oneOf`` branches and enum values (and makes nullable values null when
    odd), so a few variants cover every branch; array items take successive variants. ``minimal``
    leaves out every property the schema does not require.
    """
    schema = resolve(schema)
    if schema.get("nullable") and variant % 2 == 1:
        return None
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            value = generate(part, variant, minimal=minimal)
            if isinstance(value, dict):
                merged.update(value)
        return merged
    if "oneOf" in schema:
        options = schema["oneOf"]
        return generate(options[variant % len(options)], variant // len(options), minimal=minimal)
    if "enum" in schema:
        return schema["enum"][variant % len(schema["enum"])]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        required = set(schema.get("required", []))
        properties = schema.get("properties", {})
        value = {
            name: generate(sub, variant, minimal=minimal)
            for name, sub in properties.items()
            if not minimal or name in required
        }
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict) and not minimal:
            value["someKey"] = generate(extra, variant, minimal=minimal)
        return value
    if kind == "array":
        items = resolve(schema["items"])
        count = max(len(items.get("oneOf", [])), 1)
        return [generate(items, variant + i, minimal=minimal) for i in range(count)]
    if kind == "string":
        if "example" in schema and isinstance(schema["example"], str):
            return schema["example"]
        return SAMPLE_STRINGS.get(schema.get("format", ""), "text")
    if kind in ("number", "integer"):
        return 1
    if kind == "boolean":
        return True
    return {"anything": "goes"}  # `{}`: the spec allows any value


def enums_under(node: Any, path: str = "") -> list[tuple[str, list[Any]]]:
    """Every ``enum`` below ``node``, with its JSON pointer."""
    found: list[tuple[str, list[Any]]] = []
    if isinstance(node, dict):
        if "enum" in node:
            found.append((path, node["enum"]))
        for key, value in node.items():
            found.extend(enums_under(value, f"{path}/{key}"))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(enums_under(value, f"{path}/{index}"))
    return found
