"""Is a canonical event's schema still compatible with its last released schema of the same version?

A version's schema may only grow: a new optional field, a wider type, a new enum value, a
looser limit. Everything else breaks a producer or a consumer that was built against the
released schema, and needs a new version (concord.events.versions). `breaking_changes` walks
both JSON Schemas (as pydantic writes them: $defs and $ref, anyOf for unions and Optional) and
names each narrowing with the path it is at; the unit test test_event_compatibility runs it on
every checked-in schema against its copy in schemas/released/.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

# A limit that may only fall (a maximum) or only rise (a minimum) without breaking.
_MAXIMA = ("maxLength", "maxItems", "maximum", "exclusiveMaximum", "maxProperties")
_MINIMA = ("minLength", "minItems", "minimum", "exclusiveMinimum", "minProperties")
# Keywords that must stay as they were when present in the released schema.
_FIXED = ("pattern", "format", "const", "multipleOf")


def breaking_changes(released: Schema, current: Schema) -> list[str]:
    """Each way `current` accepts less than `released`, as `<path>: <what>` (empty: compatible)."""
    return _Comparison(released, current).compare(released, current, "$", set())


class _Comparison:
    def __init__(self, released_root: Schema, current_root: Schema) -> None:
        self._roots = (released_root, current_root)

    def _resolve(self, schema: Schema, side: int) -> Schema:
        while "$ref" in schema:
            reference = schema["$ref"]
            if not reference.startswith("#/$defs/"):
                raise ValueError(f"unsupported $ref {reference!r}: only #/$defs/ references are followed")
            schema = self._roots[side]["$defs"][reference.removeprefix("#/$defs/")]
        return schema

    def compare(self, old: Schema, new: Schema, path: str, seen: set[tuple[int, int]]) -> list[str]:
        old, new = self._resolve(old, 0), self._resolve(new, 1)
        if (id(old), id(new)) in seen:  # a recursive definition already being compared
            return []
        seen = seen | {(id(old), id(new))}
        old_branches, new_branches = _branches(old), _branches(new)
        if len(old_branches) > 1 or len(new_branches) > 1:
            return self._compare_unions(old_branches, new_branches, path, seen)
        return self._compare_one(old, new, path, seen)

    def _compare_unions(
        self, old_branches: list[Schema], new_branches: list[Schema], path: str, seen: set[tuple[int, int]]
    ) -> list[str]:
        problems = []
        for old_branch in old_branches:
            kind = _kind(self._resolve(old_branch, 0))
            matches = [b for b in new_branches if _accepts_kind(_kind(self._resolve(b, 1)), kind)]
            if not matches:
                problems.append(f"{path}: {kind} no longer accepted")
                continue
            # The closest match: the one that narrows least.
            found: list[list[str]] = [self.compare(old_branch, match, path, seen) for match in matches]
            problems += sorted(found, key=len)[0]
        return problems

    def _compare_one(self, old: Schema, new: Schema, path: str, seen: set[tuple[int, int]]) -> list[str]:
        old_kind, new_kind = _kind(old), _kind(new)
        if not _accepts_kind(new_kind, old_kind):
            return [f"{path}: type narrowed from {old_kind} to {new_kind}"]
        problems = _compare_keywords(old, new, path)
        if "properties" in old or "properties" in new:
            problems += self._compare_objects(old, new, path, seen)
        if isinstance(old.get("items"), dict) and isinstance(new.get("items"), dict):
            problems += self.compare(old["items"], new["items"], f"{path}[]", seen)
        return problems

    def _compare_objects(self, old: Schema, new: Schema, path: str, seen: set[tuple[int, int]]) -> list[str]:
        problems = []
        old_properties, new_properties = old.get("properties", {}), new.get("properties", {})
        for name in sorted(set(old_properties) - set(new_properties)):
            problems.append(f"{path}.{name}: field removed")
        for name in sorted(set(new.get("required", [])) - set(old.get("required", []))):
            problems.append(f"{path}.{name}: field is required now")
        if old.get("additionalProperties", True) is not False and new.get("additionalProperties") is False:
            problems.append(f"{path}: unknown fields are refused now")
        for name in sorted(set(old_properties) & set(new_properties)):
            problems += self.compare(old_properties[name], new_properties[name], f"{path}.{name}", seen)
        return problems


def _branches(schema: Schema) -> list[Schema]:
    return schema.get("anyOf") or schema.get("oneOf") or [schema]


def _kind(schema: Schema) -> str:
    """What a schema accepts, broadly: its JSON type, or `any` when it does not say."""
    if "type" in schema:
        kind = schema["type"]
        return " or ".join(sorted(kind)) if isinstance(kind, list) else str(kind)
    if "properties" in schema:
        return "object"
    if "enum" in schema or "const" in schema:
        values = schema.get("enum", [schema.get("const")])
        return " or ".join(sorted({_json_type(v) for v in values}))
    return "any"


def _json_type(value: Any) -> str:
    return {bool: "boolean", int: "integer", float: "number", str: "string", type(None): "null"}.get(
        type(value), "object"
    )


def _accepts_kind(new_kind: str, old_kind: str) -> bool:
    if new_kind == "any" or new_kind == old_kind:
        return True
    new_types = set(new_kind.split(" or "))
    old_types = set(old_kind.split(" or "))
    if "number" in new_types:
        new_types.add("integer")  # every integer is a number
    return old_types <= new_types


def _compare_keywords(old: Schema, new: Schema, path: str) -> list[str]:
    problems = []
    if "enum" in old and "enum" in new:
        removed = [value for value in old["enum"] if value not in new["enum"]]
        if removed:
            problems.append(f"{path}: enum values removed: {', '.join(map(str, removed))}")
    elif "enum" in new and "const" not in old:
        problems.append(f"{path}: restricted to the values {', '.join(map(str, new['enum']))}")
    for keyword in _FIXED:
        if keyword in new and old.get(keyword) != new[keyword]:
            problems.append(f"{path}: {keyword} changed from {old.get(keyword)!r} to {new[keyword]!r}")
    for keyword in _MAXIMA:
        if keyword in new and (keyword not in old or new[keyword] < old[keyword]):
            problems.append(f"{path}: {keyword} lowered from {old.get(keyword, 'none')} to {new[keyword]}")
    for keyword in _MINIMA:
        if keyword in new and (keyword not in old or new[keyword] > old[keyword]):
            problems.append(f"{path}: {keyword} raised from {old.get(keyword, 'none')} to {new[keyword]}")
    return problems
