"""Turn a FormSpec into field view-models, and submitted strings into typed values.

This first version covers top-level properties of type string, number,
integer and boolean, and enums of any of those. Other properties (objects,
arrays) are not rendered and not coerced.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from andon.forms.schema import FormSpec, option_values
from andon.i18n import N_, Message, localize

TEXT_WIDGETS = frozenset({"text", "textarea", "date", "email", "url", "tel"})
LONG_TEXT = 200
TRUE_STRINGS = frozenset({"on", "true", "1", "yes"})
YES, NO = N_("Yes"), N_("No")


@dataclass
class Field:
    """One form field as the template renders it."""

    name: str
    label: str
    widget: str
    required: bool = False
    value: str = ""
    error: Message | None = None
    options: list[tuple[str, str]] = field(default_factory=list)
    help: str = ""
    placeholder: str = ""
    minimum: str | None = None
    maximum: str | None = None
    step: str | None = None
    max_length: int | None = None
    read_only: bool = False


def kind(prop: Mapping[str, Any]) -> str | None:
    """Return enum, boolean, integer, number or string for a supported property, else None."""
    if option_values(prop):
        return "enum"
    declared = prop.get("type")
    if isinstance(declared, list):
        declared = next((t for t in declared if t != "null"), None)
    if declared in ("boolean", "integer", "number", "string"):
        return str(declared)
    return None


def supported(spec: FormSpec) -> list[tuple[str, str, dict[str, Any]]]:
    """Return (name, kind, property schema) for each supported field in layout order."""
    props = spec.properties
    result = []
    for name in spec.order():
        field_kind = kind(props[name])
        if field_kind is not None:
            result.append((name, field_kind, props[name]))
    return result


def build_fields(
    spec: FormSpec, locale: str, values: Mapping[str, Any], errors: Mapping[str, Message]
) -> list[Field]:
    """Return the view-models of the form's fields, filled with ``values`` and ``errors``."""
    fields = []
    for name, field_kind, prop in supported(spec):
        layout = spec.field_layout(name)
        fields.append(Field(
            name=name,
            label=spec.label(name, locale),
            widget=_widget(field_kind, prop, layout),
            required=name in spec.required,
            value=as_text(values.get(name), field_kind),
            error=errors.get(name),
            options=options(prop, layout, locale),
            help=localize(layout.get("help") or prop.get("description", ""), locale),
            placeholder=localize(layout.get("placeholder", ""), locale),
            read_only=bool(prop.get("readOnly", False)),
            **_limits(field_kind, prop),
        ))
    return fields


def _widget(field_kind: str, prop: Mapping[str, Any], layout: Mapping[str, Any]) -> str:
    """Return the widget that renders a field of ``field_kind``."""
    wanted = layout.get("widget")
    if field_kind == "enum":
        return "radio" if wanted == "radio" else "select"
    if field_kind == "boolean":
        return "checkbox"
    if field_kind in ("integer", "number"):
        return "number"
    if wanted in TEXT_WIDGETS:
        return str(wanted)
    if prop.get("format") == "date":
        return "date"
    if prop.get("maxLength", 0) > LONG_TEXT:
        return "textarea"
    return "text"


def _limits(field_kind: str, prop: Mapping[str, Any]) -> dict[str, Any]:
    """Return the minimum, maximum, step and max_length attributes of a field."""
    if field_kind in ("integer", "number"):
        step = prop.get("multipleOf") or (1 if field_kind == "integer" else None)
        return {
            "minimum": number_text(prop.get("minimum")),
            "maximum": number_text(prop.get("maximum")),
            "step": number_text(step) if step is not None else "any",
        }
    if field_kind == "string":
        return {"max_length": prop.get("maxLength")}
    return {}


def options(
    prop: Mapping[str, Any], layout: Mapping[str, Any], locale: str
) -> list[tuple[str, str]]:
    """Return (value, label) pairs: layout option labels, else oneOf titles, else the value."""
    titles = {
        option_text(b["const"]): b["title"]
        for b in prop.get("oneOf", prop.get("anyOf", []))
        if isinstance(b, dict) and "const" in b and isinstance(b.get("title"), str)
    }
    labels = layout.get("options", {})
    result = []
    for value in option_values(prop):
        text = option_text(value)
        label = localize(labels[text], locale) if text in labels else titles.get(text, text)
        result.append((text, label))
    return result


def option_text(value: Any) -> str:
    """Return the form value that stands for an enum value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return number_text(value) or ""
    return "" if value is None else str(value)


def number_text(value: Any) -> str | None:
    """Return a number as text without a trailing '.0'; None stays None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def as_text(value: Any, field_kind: str) -> str:
    """Return a stored or submitted value as the text an input shows."""
    if value is None:
        return ""
    if field_kind == "boolean":
        truthy = value if isinstance(value, bool) else str(value).lower() in TRUE_STRINGS
        return "on" if truthy else ""
    if isinstance(value, str):
        return value
    return option_text(value)


def coerce(spec: FormSpec, form: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, Message]]:
    """Return submitted strings as typed JSON values, and a Message per value that is not."""
    data: dict[str, Any] = {}
    errors: dict[str, Message] = {}
    for name, field_kind, prop in supported(spec):
        if prop.get("readOnly"):
            continue
        raw = form.get(name)
        if field_kind == "boolean":
            data[name] = raw is not None and raw.strip().lower() in TRUE_STRINGS
            continue
        if raw is None or not raw.strip():
            continue
        try:
            data[name] = _coerce_one(raw, field_kind, prop)
        except ValueError:
            errors[name] = _COERCE_ERRORS[field_kind]
    return data, errors


_COERCE_ERRORS = {
    "number": Message(N_("Enter a number.")),
    "integer": Message(N_("Enter a whole number.")),
}


def _coerce_one(raw: str, field_kind: str, prop: Mapping[str, Any]) -> Any:
    """Return one non-empty submitted string as a typed value; raise ValueError if it is not."""
    if field_kind == "number":
        return parse_number(raw)
    if field_kind == "integer":
        number = parse_number(raw)
        if isinstance(number, float):
            raise ValueError(raw)
        return number
    if field_kind == "enum":
        by_text = {option_text(v): v for v in option_values(prop)}
        return by_text.get(raw.strip(), raw)  # an unknown value fails validation as enum
    return raw.replace("\r\n", "\n").strip()


def parse_number(raw: str) -> int | float:
    """Return ``raw`` as an int if it is whole, else as a finite float; raise ValueError if not."""
    text = raw.strip()
    try:
        return int(text)
    except ValueError:
        number = float(text)
    if not math.isfinite(number):
        raise ValueError(raw)
    return int(number) if number.is_integer() and "e" not in text.lower() else number


def display(spec: FormSpec, locale: str, data: Mapping[str, Any],
            translate: Callable[[str], str] = str) -> list[tuple[str, str]]:
    """Return (label, shown value) for every field, enum values shown by their label."""
    return [
        (spec.label(name, locale),
         _shown(spec, name, field_kind, data.get(name), locale, translate))
        for name, field_kind, _ in supported(spec)
    ]


def _shown(spec: FormSpec, name: str, field_kind: str, value: Any, locale: str,
           translate: Callable[[str], str]) -> str:
    """Return one stored value as a reader sees it."""
    if value is None:
        return ""
    if field_kind == "enum":
        labels = dict(options(spec.properties[name], spec.field_layout(name), locale))
        return labels.get(option_text(value), option_text(value))
    if isinstance(value, bool):
        return translate(YES if value else NO)
    return as_text(value, field_kind)
