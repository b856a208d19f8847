"""A small recursive "shape" comparer for JSON payloads.

shape(value) summarises a JSON value: the JSON types seen, for objects every key with how
often it was present, for arrays the merged shape of all items. compare(ours, reference)
lists differences: keys we have that the reference never has, keys the reference always
has that we sometimes miss, and value types the reference never uses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass
class Shape:
    types: set[str] = field(default_factory=set)
    objects: int = 0  # how many objects were merged into `keys`
    keys: dict[str, list] = field(default_factory=dict)  # key -> [times present, Shape]
    item: Shape | None = None


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    raise TypeError(type(value))


def shape(value: object, into: Shape | None = None) -> Shape:
    out = into or Shape()
    kind = _type_name(value)
    out.types.add(kind)
    if kind == "object":
        out.objects += 1
        for key, child in value.items():
            slot = out.keys.setdefault(key, [0, Shape()])
            slot[0] += 1
            shape(child, slot[1])
    elif kind == "array":
        for child in value:
            out.item = shape(child, out.item or Shape())
    return out


def compare(ours: Shape, ref: Shape, path: str = "$", allow_extra: frozenset = frozenset(),
            allow_missing: frozenset = frozenset(), nullable: frozenset = frozenset()
            ) -> list[str]:
    problems = []
    leaf = path.rsplit(".", 1)[-1]
    extra_types = ours.types - ref.types - ({"null"} if leaf in nullable else set())
    if extra_types:
        problems.append(f"{path}: types {sorted(extra_types)} not in reference {sorted(ref.types)}")
    for key, (_, child) in ours.keys.items():
        if key not in ref.keys:
            if key not in allow_extra:
                problems.append(f"{path}.{key}: key not in reference")
            continue
        ref_count, ref_child = ref.keys[key]
        problems += compare(child, ref_child, f"{path}.{key}", allow_extra, allow_missing, nullable)
    for key, (ref_count, _) in ref.keys.items():
        required = ref_count == ref.objects
        count = ours.keys.get(key, [0])[0]
        if required and count < ours.objects and key not in allow_missing:
            problems.append(f"{path}.{key}: always in reference, missing in "
                            f"{ours.objects - count} of {ours.objects} objects")
    if ours.item is not None and ref.item is not None:
        problems += compare(ours.item, ref.item, f"{path}[]", allow_extra, allow_missing, nullable)
    return problems


def normalize_keys(value: object, rules: list[tuple[str, str]]) -> object:
    """Rewrite dynamic object keys (ids) to placeholders so shapes line up."""
    if isinstance(value, dict):
        out = {}
        for key, child in value.items():
            for pattern, repl in rules:
                key = re.sub(pattern, repl, key)
            out[key] = normalize_keys(child, rules)
        return out
    if isinstance(value, list):
        return [normalize_keys(v, rules) for v in value]
    return value
