"""The form fields users see: view-models to draw, submitted strings read back, values shown.

Any JSON Schema (draft 2020-12) draws as a form: objects as sections, arrays
as tables of rows, enums as selects, radios or checkboxes, alternatives of
object shapes with a chooser, conditional fields, formats as the right inputs.
The work is split over ``names`` (input names and row actions), ``shapes``
(reading the schema), ``coercion`` (strings to typed JSON), ``render`` (the
view-models of ``nodes``) and ``widgets`` (the registry other parts extend).
This module keeps the entry points the web layer and flows use.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from andon.forms import widgets
from andon.forms.coercion import coerce, number_text, option_text, parse_number
from andon.forms.names import TRUE_TEXT
from andon.forms.nodes import Field, Fields, Section, Table
from andon.forms.render import build_fields, options
from andon.forms.schema import FormSpec
from andon.forms.shapes import MAX_DEPTH, Schema, Shapes, shapes_for
from andon.i18n import N_, localize

YES, NO = N_("Yes"), N_("No")
TRUE_STRINGS = frozenset({TRUE_TEXT, "true", "1", "yes"})

__all__ = ["Field", "Fields", "Section", "Table", "as_text", "build_fields", "coerce", "display",
           "kind", "number_text", "option_text", "options", "parse_number", "supported"]


def kind(prop: Mapping[str, Any]) -> str | None:
    """Return enum, boolean, integer, number, string, object, array or checks for a property."""
    if not isinstance(prop, Mapping):
        return None
    return Shapes({}).kind(dict(prop))


def supported(spec: FormSpec) -> list[tuple[str, str, dict[str, Any]]]:
    """Return (name, kind, resolved property schema) for each top-level field in layout order."""
    shapes = shapes_for(spec)
    props = spec.properties
    result = []
    for name in spec.order():
        resolved = shapes.resolve(props[name])
        result.append((name, shapes.kind(resolved), resolved))
    return result


def as_text(value: Any, field_kind: str) -> str:
    """Return a stored or submitted scalar value as the text an input shows."""
    if value is None:
        return ""
    if field_kind == "boolean":
        truthy = value if isinstance(value, bool) else str(value).lower() in TRUE_STRINGS
        return "on" if truthy else ""
    if isinstance(value, str):
        return value
    return option_text(value)


def display(spec: FormSpec, locale: str, data: Mapping[str, Any],
            translate: Callable[[str], str] = str) -> list[tuple[str, str]]:
    """Return (label, shown value) for every top-level field; nested values in one line."""
    shapes = shapes_for(spec)
    return [(spec.label(name, locale),
             _shown(shapes, prop, spec.field_layout(name), data.get(name), locale, translate, 0))
            for name, _, prop in supported(spec)]


def _shown(shapes: Shapes, schema: Schema, layout: Mapping[str, Any], value: Any, locale: str,
           translate: Callable[[str], str], depth: int) -> str:
    """Return one stored value as a reader sees it: enum labels, yes/no, rows and sections."""
    if value is None or depth > MAX_DEPTH:
        return ""
    field_kind = shapes.kind(schema)
    if isinstance(value, list):
        return " | ".join(_shown(shapes, shapes.item_schema(schema, i), {}, item, locale,
                                 translate, depth + 1) for i, item in enumerate(value))
    if isinstance(value, dict):
        shape = shapes.object_shape(schema, value, None)
        parts = []
        for key, item in value.items():
            sub = shape.properties.get(key, {})
            label = localize(sub.get("x-label") or sub.get("title"), locale) or key
            parts.append(f"{label}: {_shown(shapes, sub, {}, item, locale, translate, depth + 1)}")
        return "; ".join(parts)
    custom = widgets.shown(value, schema, layout, locale)
    if custom is not None:
        return custom
    if field_kind == "enum":
        labels = dict(options(schema, layout, locale))
        return labels.get(option_text(value), option_text(value))
    if isinstance(value, bool):
        return translate(YES if value else NO)
    return as_text(value, field_kind)
