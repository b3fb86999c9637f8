"""Comparing a body's shape with a reference example: its keys and JSON kinds, not its values.

The reference's examples are generated from the vendor's schemas: every field is shown, with a
placeholder of its kind (``"text"``, ``1``, ``true``), ``null`` where the field is nullable, and
usually one element per array. Bodies match an example when

- every key of every example object is present in the body's object (a field without a value is sent
  as ``null``, not left out), and every non-null value has the example's kind (``null`` in the
  example matches any kind);
- arrays: each body element is compared with the example's element (where the example shows several,
  the variants of an untagged union such as the cohort's literals, it must fit one of them); members
  of a union tagged by ``type`` (approvers, policy events, form fields) are only compared with an
  example of the same tag, so a ``review`` event is not held to an ``approve`` event's params;
- an example object keyed ``ANY_ADDITIONAL_PROPERTY`` is a map: each of the body's values is compared
  with its value;
- and every value the example shows (not ``null``) is shown, non-null, somewhere in the bodies: the
  elements of a listing and the bodies of several requests to one operation add up, so that a pending
  record need not show ``actionBy`` when a decided one does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MAP_KEY = "ANY_ADDITIONAL_PROPERTY"


def kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


@dataclass
class Comparison:
    """One example against any number of bodies; ``problems()`` is empty when they match."""

    example: Any
    tags: frozenset[str]  # the ``type`` values that name a member of a tagged union
    mismatches: set[str] = field(default_factory=set)
    seen: set[str] = field(default_factory=set)

    def add(self, body: Any) -> None:
        mismatches, seen = self._compare(self.example, body, "$")
        self.mismatches |= mismatches
        self.seen |= seen

    def problems(self) -> list[str]:
        unseen = [where for where in _shown(self.example, "$") if where not in self.seen]
        return sorted(self.mismatches) + [f"{where}: never shown with a value" for where in unseen]

    def _variant(self, value: Any) -> str | None:
        tag = value.get("type") if isinstance(value, dict) else None
        return tag if isinstance(tag, str) and tag in self.tags else None

    def _compare(self, example: Any, body: Any, where: str) -> tuple[set[str], set[str]]:
        """The mismatches found and the paths shown with a value."""
        if example is None or body is None:
            return set(), set()
        if kind(example) != kind(body):
            return {f"{where}: {kind(body)} where the reference has {kind(example)}"}, set()
        if self._variant(example) != self._variant(body):
            return set(), set()  # another member of the union: its shape is not this example's
        mismatches: set[str] = set()
        seen = {where}
        parts: list[tuple[set[str], set[str]]] = []
        if isinstance(example, dict) and set(example) == {MAP_KEY}:
            parts = [self._compare(example[MAP_KEY], value, f"{where}.*") for value in body.values()]
        elif isinstance(example, dict):
            for key, value in example.items():
                if key in body:
                    parts.append(self._compare(value, body[key], f"{where}.{key}"))
                else:
                    mismatches.add(f"{where}.{key}: missing")
        elif isinstance(example, list):
            for element in body:
                fits = [
                    self._compare(e, element, f"{where}[]")
                    for e in example
                    if self._variant(e) == self._variant(element)
                ]
                perfect = [fit for fit in fits if not fit[0]]
                # an element shows every example it fits; fitting none, it is held to the closest one
                if fits:
                    parts.extend(perfect or [min(fits, key=lambda fit: len(fit[0]))])
        for part_mismatches, part_seen in parts:
            mismatches |= part_mismatches
            seen |= part_seen
        return mismatches, seen


def _shown(example: Any, where: str) -> list[str]:
    """The paths of every value the example shows, which the bodies must show too."""
    if example is None:
        return []
    found = [where]
    if isinstance(example, dict) and set(example) == {MAP_KEY}:
        found.extend(_shown(example[MAP_KEY], f"{where}.*"))
    elif isinstance(example, dict):
        for key, value in example.items():
            found.extend(_shown(value, f"{where}.{key}"))
    elif isinstance(example, list):
        for element in example:
            found.extend(w for w in _shown(element, f"{where}[]") if w not in found)
    return found
