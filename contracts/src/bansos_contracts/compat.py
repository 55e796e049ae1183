"""Backward-compatibility check between a committed JSON Schema and a newly generated one.

A change is *breaking* when a consumer built against the old schema could be surprised
by messages valid under the new one, or a message valid under the old one is rejected
by the new one. :func:`breaking_changes` reports, with a JSON path
(``$.collection_windows[].ends_at``; ``.*`` for additional properties):

- a property removed, or one that became required, or a new required property;
- a type changed or narrowed (``integer`` -> ``number`` widens and is fine), including
  no longer accepting ``null``;
- an enum value removed, a ``const`` changed, or values newly restricted;
- a constraint tightened: ``minimum``/``maximum`` (and exclusive), ``minLength``/
  ``maxLength``, ``minItems``/``maxItems``, ``minProperties``/``maxProperties``,
  ``multipleOf``, ``uniqueItems``, and any new or changed ``pattern`` or ``format``
  (regular expressions are not compared for inclusion);
- ``additionalProperties`` closed; a map's key pattern (``patternProperties``) changed
  or added, or its ``propertyNames`` tightened;
- an ``anyOf``/``oneOf`` alternative no longer accepted;
- the event's topic, CloudEvents type or source changed.

Adding an optional property, adding an enum value, loosening a constraint and changing
annotations (``title``, ``description``, ``default``, ``examples``) are compatible.
``$ref`` is resolved (``#/$defs/...`` and any local JSON pointer) in each schema's own
document.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["breaking_changes"]

_LOWER_BOUNDS = (
    "minimum",
    "exclusiveMinimum",
    "minLength",
    "minItems",
    "minProperties",
    "minContains",
)
_UPPER_BOUNDS = (
    "maximum",
    "exclusiveMaximum",
    "maxLength",
    "maxItems",
    "maxProperties",
    "maxContains",
)
_ROOT_IDENTITY = ("x-cloudevents-type", "x-cloudevents-source", "x-kafka-topic")
_OBJECT_KEYWORDS = (
    "properties",
    "required",
    "additionalProperties",
    "patternProperties",
    "propertyNames",
)
_ANY: dict[str, Any] = {}


def breaking_changes(old_schema: Mapping[str, Any], new_schema: Mapping[str, Any]) -> list[str]:
    """Every backward-incompatible change from ``old_schema`` to ``new_schema``.

    Each entry reads ``<json path>: <what changed>``; an empty list means compatible.
    """
    problems = [
        f"$: {key} changed from {old_schema.get(key)!r} to {new_schema.get(key)!r}"
        for key in _ROOT_IDENTITY
        if key in old_schema and old_schema.get(key) != new_schema.get(key)
    ]
    problems.extend(_Comparer(old_schema, new_schema).compare(old_schema, new_schema, "$"))
    return list(dict.fromkeys(problems))


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _types(schema: Mapping[str, Any]) -> set[str] | None:
    if "type" in schema:
        declared = schema["type"]
        return {declared} if isinstance(declared, str) else set(declared)
    values = _values(schema)
    return None if values is None else {_json_type(value) for value in values}


def _values(schema: Mapping[str, Any]) -> list[Any] | None:
    if "const" in schema:
        return [schema["const"]]
    if "enum" in schema:
        return list(schema["enum"])
    return None


def _variants(schema: Mapping[str, Any]) -> list[Any] | None:
    for key in ("anyOf", "oneOf"):
        if key in schema:
            base = {k: v for k, v in schema.items() if k not in ("anyOf", "oneOf")}
            return [
                {**base, **variant} if isinstance(variant, Mapping) else variant
                for variant in schema[key]
            ]
    return None


def _describe(schema: Any) -> str:
    if schema is True or schema == {}:
        return "any value"
    if not isinstance(schema, Mapping):
        return "no value"
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "const" in schema:
        return f"const {schema['const']!r}"
    if "type" in schema:
        return f"type {schema['type']}" if schema["type"] != "null" else "null"
    return "a value"


class _Comparer:
    """Compares two schema documents node by node, resolving refs in each."""

    def __init__(self, old_root: Mapping[str, Any], new_root: Mapping[str, Any]) -> None:
        self.old_root = old_root
        self.new_root = new_root
        self.active: set[tuple[str, str]] = set()

    @staticmethod
    def _pointer(root: Mapping[str, Any], ref: str) -> Any:
        if not ref.startswith("#"):
            raise ValueError(f"cannot resolve non-local $ref {ref!r}")
        node: Any = root
        for raw in ref[1:].split("/")[1:]:
            part = raw.replace("~1", "/").replace("~0", "~")
            if isinstance(node, list):
                node = node[int(part)]
            elif isinstance(node, Mapping) and part in node:
                node = node[part]
            else:
                raise ValueError(f"unresolvable $ref {ref!r}")
        return node

    def _resolve(self, schema: Any, root: Mapping[str, Any]) -> tuple[Any, str]:
        first = ""
        seen: set[str] = set()
        while isinstance(schema, Mapping) and "$ref" in schema:
            ref = str(schema["$ref"])
            if ref in seen:
                return _ANY, first
            seen.add(ref)
            first = first or ref
            target = self._pointer(root, ref)
            siblings = {k: v for k, v in schema.items() if k != "$ref"}
            schema = {**target, **siblings} if isinstance(target, Mapping) else target
        return schema, first

    def compare(self, old: Any, new: Any, path: str) -> list[str]:
        """Breaking changes from ``old`` to ``new`` at ``path``."""
        old, old_ref = self._resolve(old, self.old_root)
        new, new_ref = self._resolve(new, self.new_root)
        if old is True:
            old = _ANY
        if new is True or new == _ANY or old is False:
            return []
        if new is False:
            return [f"{path}: no value is accepted any more"]
        key = (old_ref, new_ref)
        if old_ref and new_ref:
            if key in self.active:
                return []
            self.active.add(key)
        try:
            old_variants, new_variants = _variants(old), _variants(new)
            if old_variants is not None or new_variants is not None:
                return self._variants(old_variants or [old], new_variants or [new], path)
            return self._plain(old, new, path)
        finally:
            self.active.discard(key)

    def _variants(self, olds: list[Any], news: list[Any], path: str) -> list[str]:
        problems: list[str] = []
        for old in olds:
            results = [self.compare(old, new, path) for new in news]
            if any(not result for result in results):
                continue
            if len(news) == 1:
                problems.extend(results[0])
                continue
            old_resolved = self._resolve(old, self.old_root)[0]
            old_types = _types(old_resolved) if isinstance(old_resolved, Mapping) else None
            same_type = [
                result
                for new, result in zip(news, results, strict=True)
                if isinstance(resolved := self._resolve(new, self.new_root)[0], Mapping)
                and old_types is not None
                and _types(resolved) == old_types
            ]
            if len(same_type) == 1:
                problems.extend(same_type[0])
            else:
                problems.append(f"{path}: alternative {_describe(old)} no longer accepted")
        return problems

    def _plain(self, old: Mapping[str, Any], new: Mapping[str, Any], path: str) -> list[str]:
        problems = self._type_and_values(old, new, path)
        problems.extend(self._constraints(old, new, path))
        if any(k in old or k in new for k in _OBJECT_KEYWORDS):
            problems.extend(self._object(old, new, path))
        if "items" in new:
            problems.extend(self.compare(old.get("items", _ANY), new["items"], f"{path}[]"))
        for index, item in enumerate(new.get("prefixItems", [])):
            old_items = old.get("prefixItems", [])
            before = old_items[index] if index < len(old_items) else old.get("items", _ANY)
            problems.extend(self.compare(before, item, f"{path}[{index}]"))
        for index, member in enumerate(new.get("allOf", [])):
            old_members = old.get("allOf", [])
            if index < len(old_members):
                before = old_members[index]
            else:
                before = {k: v for k, v in old.items() if k != "allOf"}
            problems.extend(self.compare(before, member, path))
        if "not" in new and new["not"] != old.get("not"):
            problems.append(f"{path}: 'not' constraint added or changed")
        return problems

    @staticmethod
    def _type_and_values(old: Mapping[str, Any], new: Mapping[str, Any], path: str) -> list[str]:
        problems: list[str] = []
        old_types, new_types = _types(old), _types(new)
        if new_types is not None:
            if old_types is None:
                problems.append(f"{path}: type restricted to {'|'.join(sorted(new_types))}")
            else:
                lost = {
                    t
                    for t in old_types
                    if t not in new_types and not (t == "integer" and "number" in new_types)
                }
                if lost == {"null"}:
                    problems.append(f"{path}: no longer accepts null")
                elif lost:
                    problems.append(
                        f"{path}: type changed from {'|'.join(sorted(old_types))} "
                        f"to {'|'.join(sorted(new_types))}"
                    )
        old_values, new_values = _values(old), _values(new)
        if new_values is not None:
            if old_values is None:
                problems.append(f"{path}: values restricted to {new_values!r}")
            elif "const" in old and "const" in new and old["const"] != new["const"]:
                problems.append(f"{path}: const changed from {old['const']!r} to {new['const']!r}")
            else:
                removed = [value for value in old_values if value not in new_values]
                if removed:
                    problems.append(f"{path}: enum value(s) removed: {removed!r}")
        return problems

    @staticmethod
    def _constraints(old: Mapping[str, Any], new: Mapping[str, Any], path: str) -> list[str]:
        problems: list[str] = []
        for key in _LOWER_BOUNDS:
            if key in new and (key not in old or new[key] > old[key]):
                problems.append(f"{path}: {key} tightened from {old.get(key)} to {new[key]}")
        for key in _UPPER_BOUNDS:
            if key in new and (key not in old or new[key] < old[key]):
                problems.append(f"{path}: {key} tightened from {old.get(key)} to {new[key]}")
        for key in ("pattern", "format"):
            if key in new and new[key] != old.get(key):
                if key in old:
                    problems.append(f"{path}: {key} changed from {old[key]!r} to {new[key]!r}")
                else:
                    problems.append(f"{path}: {key} {new[key]!r} added")
        if "multipleOf" in new and (
            "multipleOf" not in old or new["multipleOf"] % old["multipleOf"] != 0
        ):
            problems.append(
                f"{path}: multipleOf tightened from {old.get('multipleOf')} to {new['multipleOf']}"
            )
        if new.get("uniqueItems") is True and old.get("uniqueItems") is not True:
            problems.append(f"{path}: uniqueItems added")
        return problems

    def _object(self, old: Mapping[str, Any], new: Mapping[str, Any], path: str) -> list[str]:
        problems: list[str] = []
        old_props: Mapping[str, Any] = old.get("properties", {})
        new_props: Mapping[str, Any] = new.get("properties", {})
        old_required = set(old.get("required", []))
        new_required = set(new.get("required", []))
        for name, schema in old_props.items():
            if name not in new_props:
                problems.append(f"{path}.{name}: property removed")
            else:
                problems.extend(self.compare(schema, new_props[name], f"{path}.{name}"))
        for name in sorted(new_required - old_required):
            what = "property became required" if name in old_props else "new required property"
            problems.append(f"{path}.{name}: {what}")
        old_extra = old.get("additionalProperties", True)
        new_extra = new.get("additionalProperties", True)
        if new_extra is False and old_extra is not False:
            problems.append(f"{path}: additionalProperties closed (unknown keys now rejected)")
        elif new_extra is not True and new_extra is not False and old_extra is not False:
            problems.extend(self.compare(old_extra, new_extra, f"{path}.*"))
        if isinstance(old_extra, Mapping):
            for name in new_props.keys() - old_props.keys():
                problems.extend(self.compare(old_extra, new_props[name], f"{path}.{name}"))
        old_patterns: Mapping[str, Any] = old.get("patternProperties", {})
        new_patterns: Mapping[str, Any] = new.get("patternProperties", {})
        for pattern, schema in old_patterns.items():
            if pattern in new_patterns:
                problems.extend(self.compare(schema, new_patterns[pattern], f"{path}.*"))
            else:
                problems.append(f"{path}: key pattern {pattern!r} removed or changed")
        for pattern in new_patterns.keys() - old_patterns.keys():
            if old_patterns:
                continue  # already reported as a change above
            problems.append(f"{path}: key pattern {pattern!r} added")
        if "propertyNames" in new:
            problems.extend(
                self.compare(old.get("propertyNames", _ANY), new["propertyNames"], f"{path}.<key>")
            )
        return problems
