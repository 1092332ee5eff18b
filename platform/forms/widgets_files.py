"""File fields: what a layout may say about them, the checks at load time, reading a kept id.

Layout ``{"widget": "file"}`` on a top-level field; the property is a string
(one file: the attachment id) or, with ``"multiple": true``, an array of
strings (one id per file). Options:

- ``max_size_mb``: the largest file in MB; by default, and at most, the
  installation's limit (ANDON_UPLOAD_MAX_BYTES);
- ``accept``: extensions or MIME types, e.g. ``[".pdf", ".xlsx", "image/*"]``;
  they narrow the installation's types (ANDON_UPLOAD_TYPES), never widen them;
- ``multiple``: true for several files (an array of ids); false by default.

A nested field cannot be a file field (``x-widget: "file"`` is refused at
load): the files of a record are listed and downloaded by top-level field.
This module is pure; storing and claiming files is ``andon.forms.file_fields``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from andon.i18n import N_, Message

WIDGET = "file"
OPTIONS = ("max_size_mb", "accept", "multiple")
MAX_SIZE_MB = 1024  # a sanity bound at load time; the installation's limit applies on upload
ACCEPT_RE = re.compile(r"^(\.[A-Za-z0-9]{1,16}|[a-z]+/(\*|[A-Za-z0-9][A-Za-z0-9.+-]*))$")
CHOOSE_AGAIN = N_("Choose the file again.")

Problem = tuple[str, str]


@dataclass(frozen=True)
class FileRules:
    """What one file field accepts: size in bytes (None: the installation's), types, how many."""

    max_bytes: int | None = None
    accept: tuple[str, ...] = ()
    multiple: bool = False

    @classmethod
    def of(cls, layout: Mapping[str, Any]) -> FileRules:
        """Return the rules a (checked) layout entry gives."""
        size = layout.get("max_size_mb")
        return cls(max_bytes=int(size * 1024 * 1024) if isinstance(size, (int, float))
                   and _number(size) else None,
                   accept=tuple(str(a).lower() for a in layout.get("accept") or ()),
                   multiple=layout.get("multiple") is True)

    def limit(self, cap: int) -> int:
        """Return the largest size accepted, never above the installation's ``cap``."""
        return min(self.max_bytes, cap) if self.max_bytes else cap

    def accepts(self, extension: str, content_type: str) -> bool:
        """Tell whether a file of this extension (no dot) and type (judged by name) fits."""
        if not self.accept:
            return True
        kind = content_type.lower()
        return any(a == f".{extension.lower()}" or a == kind
                   or (a.endswith("/*") and kind.startswith(a[:-1])) for a in self.accept)


def _number(value: Any) -> bool:
    """Tell whether a value is a positive number (not a boolean)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


def _types(prop: Mapping[str, Any]) -> set[str]:
    """Return the JSON types a property allows, null aside."""
    kind = prop.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    return {k for k in kinds if isinstance(k, str) and k != "null"}


def problems(entry: Mapping[str, Any], path: str, prop: Mapping[str, Any]) -> list[Problem]:
    """Return the problems of one top-level field's file entries, each named by its JSON path."""
    if entry.get("widget") != WIDGET:
        return [(f"{path}.{key}", f"{key} is an option of file fields (\"widget\": \"file\").")
                for key in OPTIONS if key in entry]
    found: list[Problem] = []
    multiple = entry.get("multiple", False)
    if not isinstance(multiple, bool):
        found.append((f"{path}.multiple", "Write multiple as true or false."))
    elif multiple:
        items = prop.get("items")
        if _types(prop) != {"array"} or not isinstance(items, dict) \
                or _types(items) != {"string"}:
            found.append((f"{path}.widget", "A file field with \"multiple\": true must be a "
                          "property of type array whose items are of type string."))
    elif _types(prop) != {"string"}:
        found.append((f"{path}.widget", "A file field must be a property of type string "
                      "(the file's id); for several files add \"multiple\": true."))
    size = entry.get("max_size_mb")
    if size is not None and (not _number(size) or size > MAX_SIZE_MB):
        found.append((f"{path}.max_size_mb",
                      f"Give the largest size in MB as a number above 0, at most {MAX_SIZE_MB}."))
    accept = entry.get("accept")
    if accept is not None:
        found += _accept_problems(accept, f"{path}.accept")
    return found


def _accept_problems(accept: Any, path: str) -> list[Problem]:
    """Return problems with an accept list: extensions such as ".pdf" or types such as image/*."""
    if not isinstance(accept, list) or not accept:
        return [(path, "Give a list of extensions or types, such as [\".pdf\", \"image/*\"].")]
    return [(f"{path}[{index}]", f"{item!r} is neither an extension such as \".pdf\" nor a "
             "type such as \"image/*\".") for index, item in enumerate(accept)
            if not isinstance(item, str) or not ACCEPT_RE.match(item)]


def nested_problems(node: Any, path: str, top: bool = True) -> list[Problem]:
    """Return a problem for each ``x-widget: "file"`` in a schema: file fields are top-level."""
    found: list[Problem] = []
    if isinstance(node, dict):
        if node.get("x-widget") == WIDGET:
            found.append((f"{path}.x-widget", "File fields are top-level fields named in the "
                          "layout (\"widget\": \"file\"); a nested field cannot hold files."))
        items: Any = node.items()
    elif isinstance(node, list):
        items = ((f"[{i}]", v) for i, v in enumerate(node))
    else:
        return found
    for key, value in items:
        if key in ("enum", "const", "default", "examples"):
            continue
        found += nested_problems(value, path + (key if key.startswith("[") else f".{key}"),
                                 False)
    return found


def read_id(text: str, _schema: Mapping[str, Any]) -> str:
    """Return a posted file id as stored (a string of digits); ValueError if it is not one."""
    value = text.strip()
    if not value.isdigit() or len(value) > 18:
        raise ValueError(Message(CHOOSE_AGAIN))
    return value
