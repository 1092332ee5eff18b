"""Computed fields and fields shown only when another field has a given value.

Both are layout entries of top-level fields:

- ``"computed": "(avoided_loss + saved_cost) / investment"``: an
  ``andon.expressions`` expression over the other fields. The server works it
  out on every render and on every submission; what the browser posts for the
  field is never taken. The form's empty fields read as ``None``, so
  ``(1 if revenue_loss else 0) + (1 if trend else 0)`` counts what is filled
  in; arithmetic on an empty field, division by zero and the like leave it
  empty rather than failing. The field is drawn read-only.
- ``"show_when": {"field": "severity", "equals": "high"}`` (``equals`` may be
  a list of values): while the condition does not hold the field is not drawn,
  not required, and whatever was posted for it is dropped.

Fields these rules read redraw the whole form through htmx when they change.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from andon import expressions
from andon.forms import widgets
from andon.forms.coercion import option_text
from andon.forms.nodes import Fields
from andon.forms.schema import FormSpec
from andon.forms.shapes import shapes_for
from andon.i18n import Message, localize

COMPUTED_TEMPLATE = "_computed_field.html"
PLACES = 10  # float noise (0.1 + 0.2) is cut at this many decimals


@dataclass(frozen=True)
class Condition:
    """Show a field only while ``field`` holds one of ``values``."""

    field: str
    values: tuple[Any, ...]

    def holds(self, data: Mapping[str, Any]) -> bool:
        """Tell whether the controlling field holds one of the values."""
        current = data.get(self.field)
        wanted = {option_text(v) for v in self.values}
        if isinstance(current, list):
            return any(option_text(item) in wanted for item in current)
        return current is not None and option_text(current) in wanted


@dataclass(frozen=True)
class Rules:
    """The computed fields and the conditions of one form."""

    computed: dict[str, str]
    conditions: dict[str, Condition]

    def watched(self) -> set[str]:
        """Return the fields whose change alters a computed value or who is shown."""
        names = {c.field for c in self.conditions.values()}
        for expression in self.computed.values():
            names |= read_names(expression)
        return names

    def hidden(self, data: Mapping[str, Any]) -> set[str]:
        """Return the fields whose condition does not hold for ``data``."""
        return {name for name, condition in self.conditions.items()
                if not condition.holds(data)}


def read_names(expression: str) -> set[str]:
    """Return the field names an expression reads (functions it calls are not names)."""
    try:
        tree = ast.parse(expression, mode="eval")
    except (SyntaxError, ValueError):
        return set()
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and id(n) not in called}


def rules(spec: FormSpec) -> Rules:
    """Return the computed fields and conditions a form's layout declares."""
    computed, conditions = {}, {}
    for name in spec.order():
        layout = spec.field_layout(name)
        if isinstance(layout.get("computed"), str):
            computed[name] = layout["computed"]
        when = layout.get("show_when")
        if isinstance(when, dict) and isinstance(when.get("field"), str):
            equals = when.get("equals")
            conditions[name] = Condition(when["field"], tuple(
                equals if isinstance(equals, list) else [equals]))
    return Rules(computed, conditions)


def compute(expression: str, data: Mapping[str, Any]) -> Any:
    """Return the value of ``expression`` over ``data``; None when it cannot be worked out."""
    try:
        value = expressions.evaluate(expression, dict(data))
    except (expressions.ExpressionError, ArithmeticError, TypeError, ValueError):
        return None
    if isinstance(value, float):
        return float(round(Decimal(repr(value)), PLACES)) if value == value else None
    return value


def settle(spec: FormSpec, data: Mapping[str, Any]) -> dict[str, Any]:
    """Return the data as the server keeps it: hidden fields dropped, computed ones worked out."""
    found = rules(spec)
    settled = {k: v for k, v in data.items() if k not in found.hidden(data)}
    empty = dict.fromkeys(spec.order())
    for name, expression in found.computed.items():
        settled.pop(name, None)
        value = compute(expression, {**empty, **settled})
        if value is not None:
            settled[name] = value
    return {k: v for k, v in settled.items() if k not in found.hidden(settled)}


def drop_hidden(spec: FormSpec, data: Mapping[str, Any],
                errors: Mapping[str, Message]) -> dict[str, Message]:
    """Return the errors without those of hidden fields (a hidden field is never required)."""
    hidden = rules(spec).hidden(data)
    return {name: message for name, message in errors.items()
            if not any(name == h or name.startswith(f"{h}[") for h in hidden)}


def draw(spec: FormSpec, built: Fields, locale: str) -> Fields:
    """Drop hidden fields, fill computed ones, and make the fields they read redraw the form."""
    found = rules(spec)
    if not found.computed and not found.conditions:
        return built
    data = settle(spec, built.data)
    hidden = found.hidden(data)
    built[:] = [node for node in built if node.name not in hidden]
    watched = found.watched()
    props = spec_properties(spec)
    for node in built:
        if node.name in found.computed:
            _show_computed(node, data.get(node.name), props.get(node.name, {}),
                           spec.field_layout(node.name), locale)
        elif node.name in watched and node.node == "field" and not node.read_only:
            node.refresh, node.target = "", "#fields-root"
    return built


def spec_properties(spec: FormSpec) -> dict[str, Any]:
    """Return the top-level properties as drawn (layout widgets copied into x-widget)."""
    shapes = shapes_for(spec)
    return dict(shapes.resolve(shapes.root).get("properties") or {})


def _show_computed(node: Any, value: Any, schema: Mapping[str, Any],
                   layout: Mapping[str, Any], locale: str) -> None:
    """Draw a computed field read-only with the server's value."""
    node.read_only, node.required, node.template = True, False, COMPUTED_TEMPLATE
    node.value = "" if value is None else option_text(value)
    options = layout.get("options")
    label = options.get(node.value) if isinstance(options, Mapping) else None
    node.extra = {**node.extra, "shown": widgets.shown(value, schema, layout, locale)
                  or (localize(label, locale) if label else node.value)}
