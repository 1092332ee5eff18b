"""Check the layout entries of Andon's own widgets when a form definition is loaded.

Each problem names its JSON path, like every other problem of a definition
(``andon.forms.schema``): a computed expression that does not parse or reads
a name the form does not have, a condition on a field that does not exist, a
money field that is not a number, a currency that is not a three-letter code.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

from andon import expressions
from andon.forms import widgets_files

Problem = tuple[str, str]
NUMBER_WIDGETS = frozenset({"money", "percent"})
KEY_WIDGETS = frozenset({"user", "group", "orgunit"})
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")


def _types(prop: Mapping[str, Any]) -> set[str]:
    """Return the JSON types a property allows, null aside."""
    kind = prop.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    return {k for k in kinds if isinstance(k, str) and k != "null"}


def problems(entry: Mapping[str, Any], path: str, name: str, prop: Any,
             names: Collection[str]) -> list[Problem]:
    """Return the problems of one field's widget, computed and show_when entries."""
    prop = prop if isinstance(prop, dict) else {}
    found = _widget_problems(entry, path, prop) + widgets_files.problems(entry, path, prop)
    if "computed" in entry:
        found += _computed_problems(entry["computed"], f"{path}.computed", name, names)
    if "show_when" in entry:
        found += _condition_problems(entry["show_when"], f"{path}.show_when", name, names)
    return found


def _widget_problems(entry: Mapping[str, Any], path: str,
                     prop: Mapping[str, Any]) -> list[Problem]:
    """Return problems with a money, percent, picker or record field's property and entries."""
    widget, found, types = entry.get("widget"), [], _types(prop)
    if widget in NUMBER_WIDGETS and (not types or not types <= {"number", "integer"}):
        found.append((f"{path}.widget", f"A {widget} field must be a property of type number."))
    if widget in KEY_WIDGETS and types != {"string"}:
        found.append((f"{path}.widget", f"A {widget} field must be a property of type string."))
    if widget == "record" and types != {"integer"}:
        found.append((f"{path}.widget", "A record field must be a property of type integer "
                                        "(it stores the record's number)."))
    form = entry.get("form")
    if widget == "record" and (not isinstance(form, str) or not form):
        found.append((f"{path}.form", "Name the form whose records can be chosen, "
                                      "e.g. \"form\": \"suppliers\"."))
    elif form is not None and widget != "record":
        found.append((f"{path}.form", "\"form\" belongs to a record field "
                                      "(\"widget\": \"record\")."))
    currency = entry.get("currency")
    if currency is not None and (widget != "money" or not isinstance(currency, str)
                                 or not CURRENCY_RE.match(currency)):
        found.append((f"{path}.currency",
                      "A currency is a three-letter code such as CNY, on a money field."))
    return found


def _computed_problems(expression: Any, path: str, name: str,
                       names: Collection[str]) -> list[Problem]:
    """Return a problem if the expression does not parse or reads an unknown field."""
    if not isinstance(expression, str) or not expression.strip():
        return [(path, "A computed field needs an expression, such as \"a / b\".")]
    try:
        expressions.check(expression, [n for n in names if n != name])
    except expressions.ExpressionError as error:
        return [(path, str(error))]
    return []


def _condition_problems(when: Any, path: str, name: str,
                        names: Collection[str]) -> list[Problem]:
    """Return problems with a show_when entry: the field it watches and the values."""
    if not isinstance(when, dict) or set(when) != {"field", "equals"}:
        return [(path, "Write show_when as {\"field\": <name>, \"equals\": <value or list>}.")]
    found = []
    if when["field"] not in names or when["field"] == name:
        found.append((f"{path}.field", f"No other field {when['field']!r} in the schema."))
    values = when["equals"] if isinstance(when["equals"], list) else [when["equals"]]
    if not values or not all(isinstance(v, (str, int, float, bool)) for v in values):
        found.append((f"{path}.equals", "Give a value, or a list of values, to compare with."))
    return found
