"""The report builder's edits: one posted choice changes a definition, or is refused.

Each action reads its inputs (text, as a form posts them), changes a copy of the
definition, and checks the part it touched with the same rules ``andon load``
applies (``andon.reports.definition``). A choice that does not fit raises
``InvalidSubmission`` naming the input and saying why; nothing is changed.
Problems elsewhere in the draft (typed in the JSON tab, say) do not block an edit.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from andon.errors import InvalidSubmission, NotFound
from andon.i18n import N_, Message
from andon.reports.datasets import Dataset, dataset
from andon.reports.definition import (
    PARAMETER_FIELDS,
    VALIDATOR,
    dataset_problems,
)

Form = Mapping[str, str]
SHORT = {"en": "en", "zh-CN": "zh"}  # how the title inputs name the languages
NO_VALUE = ("is_null", "not_null", "is_true", "is_false")
LISTS = ("in", "not_in", "between")
#: the input that names each part of a new filter, grouping, measure or parameter
INPUTS = {
    "filters": {"field": "filter_field", "op": "filter_op", "value": "filter_value"},
    "group_by": {"field": "group_field", "bucket": "group_unit", "level": "group_unit",
                 "": "group_field"},
    "measures": {"key": "measure_key", "agg": "measure_agg", "field": "measure_field",
                 "p": "measure_p", "label": "measure_label_en", "numerator": "num_field",
                 "denominator": "den_field", "target": "target_value", "where": "num_field"},
    "sort": {"key": "sort_key", "dir": "sort_dir"},
    "parameters": {"key": "param_key", "type": "param_type", "field": "param_field",
                   "default": "param_default"},
    "visualisation": {"type": "vis_type", "measures": "vis_measures"},
    "limit": {"": "limit"},
    "dataset": {"": "dataset"},
}


def apply(session: Session, definition: dict[str, Any], action: str, form: Form,
          roles: Sequence[str] = ()) -> dict[str, Any]:
    """Return the definition changed by one builder action, or raise naming the input."""
    changed = copy.deepcopy(definition)
    edits: dict[str, Callable[[], str]] = {
        "dataset": lambda: _dataset(session, changed, form),
        "add_filter": lambda: _append(changed, "filters", _condition(session, changed, form,
                                                                    "filter")),
        "add_group": lambda: _append(changed, "group_by", _group(form)),
        "add_measure": lambda: _append(changed, "measures", _measure(session, changed, form)),
        "add_sort": lambda: _append(changed, "sort", {"key": form.get("sort_key", ""),
                                                      "dir": form.get("sort_dir") or "asc"}),
        "add_parameter": lambda: _append(changed, "parameters", _parameter(form)),
        "limit": lambda: _limit(changed, form),
        "visualisation": lambda: _set(changed, "visualisation", _visualisation(form)),
        "settings": lambda: _settings(changed, form, roles),
    }
    if action.startswith("remove_"):
        _remove(changed, action[len("remove_"):], form.get("index", ""))
        return changed
    if action not in edits:
        raise NotFound(N_("There is no such builder action."))
    path = edits[action]()
    _refuse_problems(session, changed, path, form)
    return changed


def _append(definition: dict[str, Any], part: str, item: Any) -> str:
    """Add an item to a list of the definition; return its JSON path."""
    items = definition.setdefault(part, [])
    if not isinstance(items, list):
        items = definition[part] = []
    items.append(item)
    return f"$.{part}[{len(items) - 1}]"


def _set(definition: dict[str, Any], part: str, value: Any) -> str:
    """Set one part of the definition; return its JSON path."""
    definition[part] = value
    return f"$.{part}"


def _remove(definition: dict[str, Any], part: str, index: str) -> None:
    """Remove the item at ``index`` from one of the definition's lists."""
    items = definition.get({"filter": "filters", "group": "group_by", "measure": "measures",
                            "sort": "sort", "parameter": "parameters"}.get(part, ""))
    if not isinstance(items, list) or not index.isdigit() or int(index) >= len(items):
        raise NotFound(N_("There is no such item to remove."))
    del items[int(index)]


def _source(session: Session, definition: Mapping[str, Any]) -> Dataset:
    """Return the dataset the definition reads, or refuse an edit until one is chosen."""
    found = dataset(str(definition.get("dataset", "")), "en", session)
    if found is None:
        raise InvalidSubmission({"dataset": Message(N_("Choose a dataset first."))}, {})
    return found


def _dataset(session: Session, definition: dict[str, Any], form: Form) -> str:
    """Choose the dataset; what named the old dataset's fields starts again."""
    key = form.get("dataset", "")
    if dataset(key, "en", session) is None:
        raise InvalidSubmission({"dataset": Message(N_("Choose one of the listed datasets."))},
                                form)
    if key != definition.get("dataset"):
        definition.update(dataset=key, filters=[], parameters=[], group_by=[], sort=[],
                          measures=[{"key": "count", "agg": "count",
                                     "label": {"en": "Number", "zh-CN": "数量"}}])
    return "$.dataset"


def _condition(session: Session, definition: Mapping[str, Any], form: Form,
               prefix: str) -> dict[str, Any]:
    """Return a condition from its field, operator and value inputs, the value typed."""
    name, op = form.get(f"{prefix}_field", ""), form.get(f"{prefix}_op", "")
    source = _source(session, definition)
    condition: dict[str, Any] = {"field": name, "op": op}
    if op in NO_VALUE or name not in source.fields:
        return condition
    text = form.get(f"{prefix}_value", "").strip()
    kind = source.fields[name].type
    parts = [p.strip() for p in text.split(",")] if op in LISTS else [text]
    try:
        values = [_typed(kind, part) for part in parts if part != ""]
    except ValueError:
        raise InvalidSubmission({f"{prefix}_value": Message(N_("Enter a number."))},
                                form) from None
    if not values:
        raise InvalidSubmission({f"{prefix}_value": Message(
            N_("Enter a value (several separated by commas)."))}, form)
    condition["value"] = values if op in LISTS else values[0]
    return condition


def _typed(kind: str, text: str) -> Any:
    """Return a typed value for a field type: numbers as numbers, the rest as text."""
    if kind in ("number", "hours"):
        number = float(text)
        return int(number) if number.is_integer() else number
    return text


def _group(form: Form) -> Any:
    """Return a grouping: a field, a field's time bucket, or a taxonomy level."""
    name, unit = form.get("group_field", ""), form.get("group_unit", "")
    if not unit:
        return name
    if re.fullmatch(r"level[0-9]", unit):
        return {"field": name, "level": int(unit[5:])}
    return {"field": name, "bucket": unit}


def _measure(session: Session, definition: Mapping[str, Any], form: Form) -> dict[str, Any]:
    """Return a measure from its inputs: key, labels, aggregate, field, conditions, target."""
    agg, name = form.get("measure_agg", ""), form.get("measure_field", "")
    key = form.get("measure_key", "").strip() or "_".join(p for p in (agg, name) if p)
    if any(m.get("key") == key for m in definition.get("measures", []) if isinstance(m, dict)):
        raise InvalidSubmission({"measure_key": Message(
            N_("Another measure has the key %(key)s."), {"key": key})}, form)
    english = form.get("measure_label_en", "").strip() or key
    measure: dict[str, Any] = {"key": key, "agg": agg, "label": {
        "en": english, "zh-CN": form.get("measure_label_zh", "").strip() or english}}
    if name:
        measure["field"] = name
    if agg == "percentile":
        measure["p"] = _number(form, "measure_p")
    if agg == "rate":
        measure["numerator"] = [_condition(session, definition, form, "num")]
        if form.get("den_field"):
            measure["denominator"] = [_condition(session, definition, form, "den")]
    elif form.get("num_field"):
        measure["where"] = [_condition(session, definition, form, "num")]
    if form.get("target_value", "").strip():
        measure["target"] = {"value": _number(form, "target_value"),
                             "better": form.get("target_better") or "higher"}
    return measure


def _number(form: Form, name: str) -> float:
    """Return a number input's value, or refuse naming it."""
    try:
        return float(form.get(name, ""))
    except ValueError:
        raise InvalidSubmission({name: Message(N_("Enter a number."))}, form) from None


def _parameter(form: Form) -> dict[str, Any]:
    """Return a reader parameter: its type, key, the field it narrows, a default range."""
    kind = form.get("param_type", "")
    parameter: dict[str, Any] = {"key": form.get("param_key", "").strip() or
                                 ("period" if kind == "date_range" else kind), "type": kind}
    if kind == "date_range" or form.get("param_field") and \
            form.get("param_field") != PARAMETER_FIELDS.get(kind):
        parameter["field"] = form.get("param_field", "")
    if kind == "date_range" and form.get("param_default"):
        parameter["default"] = form["param_default"]
    return parameter


def _visualisation(form: Form) -> dict[str, Any]:
    """Return the chart type and the measures it plots (comma-separated; none: all)."""
    shown = [key.strip() for key in form.get("vis_measures", "").split(",") if key.strip()]
    return {"type": form.get("vis_type", ""), **({"measures": shown} if shown else {})}


def _limit(definition: dict[str, Any], form: Form) -> str:
    """Set the most rows a report shows."""
    try:
        definition["limit"] = int(form.get("limit", ""))
    except ValueError:
        raise InvalidSubmission({"limit": Message(N_("Enter a whole number."))}, form) from None
    return "$.limit"


def _settings(definition: dict[str, Any], form: Form, roles: Sequence[str]) -> str:
    """Set the title in both languages and the roles that may open the report."""
    errors = {f"title_{SHORT[loc]}": Message(N_("Give the title in both languages."))
              for loc in ("en", "zh-CN") if not form.get(f"title_{SHORT[loc]}", "").strip()}
    if errors:
        raise InvalidSubmission(errors, form)
    definition["title"] = {loc: form[f"title_{SHORT[loc]}"].strip() for loc in ("en", "zh-CN")}
    definition["roles"] = list(roles)
    return "$.title"


def _refuse_problems(session: Session, definition: dict[str, Any], path: str,
                     form: Form) -> None:
    """Refuse the edit if the part at ``path`` breaks a rule, naming its input."""
    found = [(error.json_path, error.message) for error in VALIDATOR.iter_errors(definition)]
    if not found:
        try:
            found = dataset_problems(definition, session)
        except (KeyError, TypeError, AttributeError):
            found = []
    if path == "$.title":
        return
    mine = [(where, what) for where, what in found
            if where == path or where.startswith(path + ".") or where.startswith(path + "[")]
    if not mine:
        return
    where, what = mine[0]
    raise InvalidSubmission({_input(path, where): Message(
        N_("Not applied: %(problem)s (%(path)s)."), {"problem": what, "path": where})}, form)


def _input(path: str, where: str) -> str:
    """Return the input that a problem at ``where``, under the new item at ``path``, names."""
    part = re.match(r"\$\.([a-z_]+)", path)
    inputs = INPUTS.get(part.group(1) if part else "", {})
    rest = where[len(path):].lstrip(".")
    first = re.match(r"[a-z_]*", rest)
    name = first.group(0) if first else ""
    if name in ("numerator", "denominator", "where"):
        condition = re.search(r"\]\.([a-z]+)", rest)
        prefix = "den" if name == "denominator" else "num"
        return f"{prefix}_{condition.group(1) if condition else 'field'}"
    return inputs.get(name) or inputs.get("") or next(iter(inputs.values()), "json")

