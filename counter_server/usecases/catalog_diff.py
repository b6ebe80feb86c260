"""What one catalog (or part of one) changes against another, value by value, for people to
read: the editor's draft pages and the versions' history show it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Change:
    """One value that a new version changes: its path, before and after (None: absent)."""

    path: str
    before: str | None
    after: str | None


_MISSING: Any = object()


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _summary(entry: dict[str, Any]) -> str:
    """A removed entry in one line: its title, name or question, else all of it."""
    for key in ("title", "name", "question", "text", "slug", "id"):
        if isinstance(entry.get(key), str):
            return entry[key]
    return _shown(entry)


def _keyed(value: Any) -> Any:
    """Lists of slugged entries (services, categories, queues …) keyed by slug, so that a
    diff names them, not their positions."""
    if isinstance(value, dict):
        return {key: _keyed(item) for key, item in value.items()}
    if isinstance(value, list):
        slugs = [item.get("slug") if isinstance(item, dict) else None for item in value]
        if value and all(isinstance(s, str) for s in slugs) and len(set(slugs)) == len(slugs):
            return {slug: _keyed(item) for slug, item in zip(slugs, value, strict=True)}
        return [_keyed(item) for item in value]
    return value


def _children(value: Any) -> dict[Any, Any] | None:
    """A value's parts, when a diff goes inside it (non-empty mappings, lists of them)."""
    if isinstance(value, dict) and value:
        return value
    if isinstance(value, list) and value and any(isinstance(v, dict | list) for v in value):
        return dict(enumerate(value))
    return None


def _flatten(value: Any, path: str, out: dict[str, Any]) -> None:
    children = _children(value)
    if children is None:
        out[path] = value
        return
    for key, item in children.items():
        _flatten(item, _join(path, key), out)


def _join(path: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def _compare(before: Any, after: Any, path: str, out: list[Change]) -> None:
    if before == after:
        return
    old, new = _children(before), _children(after)
    if old is not None and new is not None and type(before) is type(after):
        for key in dict.fromkeys([*old, *new]):
            _compare(old.get(key, _MISSING), new.get(key, _MISSING), _join(path, key), out)
    elif after is _MISSING and path and isinstance(before, dict):
        out.append(Change(path, _summary(before), None))
    else:
        leaves: dict[str, list[Any]] = {}
        for side, value in ((0, before), (1, after)):
            flat: dict[str, Any] = {}
            if value is not _MISSING:
                _flatten(value, path, flat)
            for leaf, item in flat.items():
                leaves.setdefault(leaf, [_MISSING, _MISSING])[side] = item
        out.extend(Change(leaf, None if old_value is _MISSING else _shown(old_value),
                          None if new_value is _MISSING else _shown(new_value))
                   for leaf, (old_value, new_value) in leaves.items() if old_value != new_value)


def diff(before: Any, after: Any, root: str = "") -> list[Change]:
    """Every leaf value that differs, by its path (e.g. `fees.items[0].amount_rials`); an
    entry removed whole is one change (its title before, nothing after). None: absent."""
    out: list[Change] = []
    _compare(_MISSING if before is None else _keyed(before),
             _MISSING if after is None else _keyed(after), root, out)
    return out
