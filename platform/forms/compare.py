"""Compare two versions of a form definition: fields added, removed and changed.

Both sides are read the way the builder reads them (``andon.forms.builder``),
so a difference is said in the administrator's terms: a label, whether the
field is required, its options, its limits, not a JSON diff.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from andon.forms import builder, builder_panel
from andon.i18n import N_

# What is compared for each field, by the panel input that shows it, with its label.
ATTRIBUTES: tuple[tuple[str, str], ...] = (
    ("kind", N_("Type")),
    ("label_en", N_("Label (English)")), ("label_zh", N_("Label (Chinese)")),
    ("help_en", N_("Help (English)")), ("help_zh", N_("Help (Chinese)")),
    ("placeholder_en", N_("Placeholder (English)")),
    ("placeholder_zh", N_("Placeholder (Chinese)")),
    ("required", N_("Required")), ("read_only", N_("Read-only")), ("width", N_("Width")),
    ("min_length", N_("Minimum length")), ("max_length", N_("Maximum length")),
    ("minimum", N_("Minimum")), ("maximum", N_("Maximum")), ("pattern", N_("Pattern")),
    ("default", N_("Default")), ("options", N_("Options")), ("currency", N_("Currency")),
    ("taxonomy", N_("Taxonomy")), ("record_form", N_("Linked form")),
    ("computed", N_("Expression")), ("max_size_mb", N_("Largest file (MB)")),
    ("accept", N_("File types")), ("multiple", N_("Several files")),
    ("show_field", N_("Shown when field")), ("show_values", N_("Shown for values")),
)


@dataclass
class Change:
    """One field in both versions that differs: (attribute, its label, before, after).

    For the attribute ``kind`` the values are the palette kinds' labels (message ids).
    """

    path: str
    label: str
    differences: list[tuple[str, str, str, str]] = field(default_factory=list)


@dataclass
class Comparison:
    """What changed from an older version to a newer one."""

    added: list[tuple[str, str]] = field(default_factory=list)
    removed: list[tuple[str, str]] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)
    title: tuple[str, str] | None = None
    reordered: bool = False

    @property
    def same(self) -> bool:
        """Tell whether nothing differs."""
        return not (self.added or self.removed or self.changed or self.title or self.reordered)


def compare(old: Mapping[str, Any], new: Mapping[str, Any], locale: str) -> Comparison:
    """Return the differences from the ``old`` definition to the ``new`` one."""
    before, after = _fields(old, locale), _fields(new, locale)
    result = Comparison(
        added=[(path, label) for path, (label, _) in after.items() if path not in before],
        removed=[(path, label) for path, (label, _) in before.items() if path not in after])
    for path, (label, values) in after.items():
        if path in before:
            old_values = before[path][1]
            differences = [(key, name, old_values.get(key, ""), values.get(key, ""))
                           for key, name in ATTRIBUTES
                           if old_values.get(key, "") != values.get(key, "")]
            if differences:
                result.changed.append(Change(path, label, differences))
    old_title, new_title = _title(old), _title(new)
    if old_title != new_title:
        result.title = (old_title, new_title)
    common = [path for path in after if path in before]
    result.reordered = common != [path for path in before if path in after]
    return result


def _fields(definition: Mapping[str, Any], locale: str) -> dict[str, tuple[str, dict[str, str]]]:
    """Return every field by path, with its label and its panel values, in form order."""
    found: dict[str, tuple[str, dict[str, str]]] = {}

    def walk(nodes: list[builder.Node]) -> None:
        for node in nodes:
            values = builder_panel.panel_values(definition, node.path)
            values.pop("name", None)
            values["kind"] = node.kind.label
            found[node.key] = (node.label, values)
            walk(node.children)

    walk(builder.outline(definition, locale))
    return found


def _title(definition: Mapping[str, Any]) -> str:
    """Return the title as one comparable text."""
    return json.dumps(definition.get("title"), ensure_ascii=False, sort_keys=True)
