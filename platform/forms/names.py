"""Name form inputs after their place in the data, and change rows in submitted forms.

A value's input name is its JSON path in brackets: ``title``, ``customer[name]``,
``items[0][qty]``, ``tags[2]``. Two reserved keys ride along: ``P[#]`` holds the
number of rows of the array at ``P`` (so an empty row survives a re-render) and
``P[?]`` the chosen alternative of a ``oneOf``/``anyOf`` at ``P``. A submitted
form is therefore a flat mapping of name to text, which is what drafts store.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

ROWS = "#"
CHOICE = "?"
ROW_ACTION = "_rows"
TIMEZONE = "_tz"
RESERVED = frozenset({"csrf_token", ROW_ACTION, TIMEZONE, "_node", "_field"})
ACTIONS = ("add", "remove", "up", "down")
TRUE_TEXT = "on"


def child(parent: str, key: str | int) -> str:
    """Return the input name of ``key`` inside the value named ``parent``."""
    return str(key) if parent == "" else f"{parent}[{key}]"


def dom_id(name: str) -> str:
    """Return an HTML id fragment for an input name: brackets become dashes."""
    cleaned = re.sub(r"[^A-Za-z0-9_\-]+", "-", name.replace("][", "-")).strip("-")
    return cleaned or "form"


class Flat(dict[str, str]):
    """A flat form that finds the names inside a value without scanning every name."""

    def __init__(self) -> None:
        super().__init__()
        self._inside: dict[str, list[str]] = {}

    def __setitem__(self, key: str, value: str) -> None:
        """Set a value, indexing a new name under every value that contains it."""
        if key not in self:
            for position, char in enumerate(key):
                if char == "[" and position:
                    self._inside.setdefault(key[:position], []).append(key)
        super().__setitem__(key, value)

    def inside(self, name: str) -> list[str]:
        """Return the names inside the value named ``name``."""
        return list(self._inside.get(name, ()))


def flatten(values: Mapping[str, Any] | None, parent: str = "") -> Flat:
    """Return typed data, a submitted form, or a mix of both as a flat name-to-text dict."""
    flat = Flat()
    for key, value in (values or {}).items():
        if parent == "" and key in RESERVED - {TIMEZONE}:
            continue
        flatten_into(flat, child(parent, key), value)
    return flat


def flatten_into(flat: dict[str, str], name: str, value: Any) -> None:
    """Add one value (scalar, object or array) under ``name``."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            flatten_into(flat, child(name, key), item)
    elif isinstance(value, list):
        flat[child(name, ROWS)] = str(len(value))
        for index, item in enumerate(value):
            flatten_into(flat, child(name, index), item)
    else:
        flat[name] = scalar_text(value)


def scalar_text(value: Any) -> str:
    """Return a stored scalar as the text a form input holds."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return TRUE_TEXT if value else ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def under(flat: Mapping[str, str], name: str) -> list[str]:
    """Return the keys of ``flat`` that lie inside the value named ``name``."""
    if isinstance(flat, Flat):
        return flat.inside(name)
    prefix = f"{name}["
    return [key for key in flat if key.startswith(prefix)]


def row_count(flat: Mapping[str, str], name: str) -> int | None:
    """Return how many rows the array at ``name`` has in the form, None if the form is silent."""
    marker = flat.get(child(name, ROWS))
    if marker is not None and marker.strip().isdigit():
        return min(int(marker), MAX_ROWS)
    indexes = [int(found) for found in (_row_index(name, key) for key in under(flat, name))
               if found is not None]
    return min(max(indexes) + 1, MAX_ROWS) if indexes else None


MAX_ROWS = 200


def _row_index(name: str, key: str) -> str | None:
    """Return the row number a key of the array ``name`` belongs to, if it is one."""
    match = re.match(r"\[(\d+)\]", key[len(name):])
    return match.group(1) if match else None


def rearrange(form: Mapping[str, Any], action: str) -> dict[str, str]:
    """Return the form with one row action applied: ``add:P``, ``remove:P[i]``, ``up:P[i]``."""
    flat = {key: value for key, value in _items(form) if key not in RESERVED - {TIMEZONE}}
    verb, _, target = action.partition(":")
    if verb == "add":
        count = row_count(flat, target) or 0
        flat[child(target, ROWS)] = str(min(count + 1, MAX_ROWS))
        return flat
    match = re.fullmatch(r"(.+)\[(\d+)\]", target)
    if verb not in ACTIONS or match is None:
        return flat
    name, index = match.group(1), int(match.group(2))
    count = row_count(flat, name) or 0
    if verb == "remove" and index < count:
        return _remove_row(flat, name, index, count)
    other = index - 1 if verb == "up" else index + 1
    if 0 <= other < count and index < count:
        return _swap_rows(flat, name, index, other)
    return flat


def _items(form: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
    """Return (name, first value) pairs of a plain dict or a MultiDict."""
    return [(str(key), str(value)) for key, value in form.items()]


def _remove_row(flat: dict[str, str], name: str, index: int, count: int) -> dict[str, str]:
    """Drop row ``index`` of the array ``name`` and renumber the rows after it."""
    result: dict[str, str] = {}
    for key, value in flat.items():
        row = _row_index(name, key) if key.startswith(f"{name}[") else None
        if row is None:
            result[key] = value
        elif int(row) > index:
            result[_renumber(key, name, int(row), int(row) - 1)] = value
        elif int(row) < index:
            result[key] = value
    result[child(name, ROWS)] = str(count - 1)
    return result


def _swap_rows(flat: dict[str, str], name: str, first: int, second: int) -> dict[str, str]:
    """Exchange rows ``first`` and ``second`` of the array ``name``."""
    result: dict[str, str] = {}
    for key, value in flat.items():
        row = _row_index(name, key) if key.startswith(f"{name}[") else None
        if row is not None and int(row) in (first, second):
            target = second if int(row) == first else first
            result[_renumber(key, name, int(row), target)] = value
        else:
            result[key] = value
    return result


def _renumber(key: str, name: str, old: int, new: int) -> str:
    """Return ``key`` moved from row ``old`` to row ``new`` of the array ``name``."""
    return f"{name}[{new}]" + key[len(f"{name}[{old}]"):]
