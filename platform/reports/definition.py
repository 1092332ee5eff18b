"""Report definitions: Andon's own JSON Schema plus checks against the dataset.

A definition names a dataset, filters (typed operators), reader parameters,
grouping (fields and time buckets), measures (with an optional KPI target),
sorting, a limit and a visualisation. ``docs/reports.md`` describes each part.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from jsonschema import Draft202012Validator
from sqlalchemy.orm import Session

from andon.errors import InvalidDefinition
from andon.i18n import N_
from andon.reports.datasets import Dataset, dataset
from andon.reports.sqlfuncs import UNITS

OPERATORS = ("eq", "ne", "lt", "le", "gt", "ge", "between", "in", "not_in", "contains",
             "is_null", "not_null", "is_true", "is_false")
AGGREGATES = ("count", "count_distinct", "sum", "avg", "min", "max", "rate", "percentile")
CHARTS = ("table", "kpi", "bar", "stacked_bar", "line", "pie", "pareto", "burndown")
PARAMETERS = ("date_range", "flow", "project", "org_unit")
#: the field a parameter binds to unless the definition names another
PARAMETER_FIELDS = {"flow": "flow_key", "project": "project_id", "org_unit": "org_unit_key"}
#: the levels of a taxonomy tree a taxonomy-coded field can be grouped by (1 is the top)
LEVELS = (1, 2, 3)
RANGES = ("this_month", "this_quarter", "this_year", "last_30_days", "last_90_days")
#: which operators suit which field types
TYPED_OPERATORS = {
    "string": {"eq", "ne", "in", "not_in", "contains", "is_null", "not_null"},
    "number": {"eq", "ne", "lt", "le", "gt", "ge", "between", "in", "not_in", "is_null",
               "not_null"},
    "boolean": {"is_true", "is_false", "is_null", "not_null"},
}
TYPED_OPERATORS["hours"] = TYPED_OPERATORS["number"]
TYPED_OPERATORS["datetime"] = TYPED_OPERATORS["date"] = {
    "lt", "le", "gt", "ge", "between", "is_null", "not_null"}
NUMERIC = ("number", "hours")
KEY = {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,63}$"}
TEXTS = {"type": "object", "properties": {"en": {"type": "string"},
                                         "zh-CN": {"type": "string"}},
         "required": ["en", "zh-CN"]}
CONDITION = {"type": "object", "required": ["field", "op"], "additionalProperties": False,
             "properties": {"field": {"type": "string"}, "op": {"enum": list(OPERATORS)},
                            "value": {}}}
CONDITIONS = {"type": "array", "maxItems": 20, "items": {"$ref": "#/$defs/condition"}}
SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://andon.example/schemas/report.json",
    "type": "object",
    "required": ["key", "title", "dataset", "measures", "visualisation"],
    "additionalProperties": False,
    "$defs": {"condition": CONDITION},
    "properties": {
        "key": KEY,
        "title": TEXTS,
        "description": TEXTS,
        "roles": {"type": "array", "items": {"enum": ["admin", "designer", "member", "leader"]}},
        "dataset": {"type": "string",
                    "pattern": "^(tasks|instances|audit|escalations|records:[a-z0-9_]+)$"},
        "filters": {**CONDITIONS, "maxItems": 50},
        "parameters": {"type": "array", "maxItems": 8, "items": {
            "type": "object", "required": ["key", "type"], "additionalProperties": False,
            "properties": {"key": {**KEY, "not": {"enum": ["key", "kind", "m"]}},
                           "type": {"enum": list(PARAMETERS)},
                           "field": {"type": "string"}, "label": TEXTS,
                           "default": {"enum": list(RANGES)}}}},
        "group_by": {"type": "array", "maxItems": 5, "items": {"oneOf": [
            {"type": "string"},
            {"type": "object", "required": ["field", "bucket"], "additionalProperties": False,
             "properties": {"field": {"type": "string"}, "bucket": {"enum": list(UNITS)}}},
            {"type": "object", "required": ["field", "level"], "additionalProperties": False,
             "properties": {"field": {"type": "string"}, "level": {"enum": list(LEVELS)}}}]}},
        "measures": {"type": "array", "minItems": 1, "maxItems": 10, "items": {
            "type": "object", "required": ["key", "agg", "label"], "additionalProperties": False,
            "properties": {
                "key": KEY, "agg": {"enum": list(AGGREGATES)}, "field": {"type": "string"},
                "label": TEXTS, "where": CONDITIONS, "numerator": CONDITIONS,
                "denominator": CONDITIONS,
                "p": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 100},
                "bucket_on": {"type": "string"},
                "target": {"type": "object", "required": ["value"],
                           "additionalProperties": False,
                           "properties": {"value": {"type": "number"},
                                          "better": {"enum": ["higher", "lower"]}}}},
            "allOf": [
                {"if": {"properties": {"agg": {"const": "rate"}}},
                 "then": {"required": ["numerator"]}},
                {"if": {"properties": {"agg": {"const": "percentile"}}},
                 "then": {"required": ["field", "p"]}}]}},
        "sort": {"type": "array", "items": {
            "type": "object", "required": ["key"], "additionalProperties": False,
            "properties": {"key": {"type": "string"}, "dir": {"enum": ["asc", "desc"]}}}},
        "limit": {"type": "integer", "minimum": 1, "maximum": 10000},
        "visualisation": {"type": "object", "required": ["type"], "additionalProperties": False,
                          "properties": {"type": {"enum": list(CHARTS)},
                                         "measures": {"type": "array",
                                                      "items": {"type": "string"}}}},
    },
}
VALIDATOR = Draft202012Validator(SCHEMA)


@dataclass(frozen=True)
class ReportSpec:
    """A checked report definition."""

    key: str
    title: dict[str, str]
    body: dict[str, Any]

    @property
    def roles(self) -> list[str]:
        """Return the roles that may open the report (admins always may)."""
        return list(self.body.get("roles", ["admin", "leader"]))

    @property
    def groups(self) -> list[tuple[str, str, str | None]]:
        """Return each grouping as (result key, field, time bucket or None)."""
        return [group_of(item) for item in self.body.get("group_by", [])]


def group_of(item: Any) -> tuple[str, str, str | None]:
    """Return a group_by entry as (result key, field, unit): a time bucket keyed field_bucket,
    or a taxonomy level (unit ``level2``) keyed field_level2."""
    if isinstance(item, str):
        return item, item, None
    unit = item["bucket"] if "bucket" in item else f"level{item['level']}"
    return f"{item['field']}_{unit}", item["field"], unit


def level_of(unit: str | None) -> int | None:
    """Return the taxonomy level a grouping unit names (``level2`` is 2), None for the rest."""
    return int(unit[5:]) if unit and unit.startswith("level") else None


def is_bucket(unit: str | None) -> bool:
    """Tell whether a grouping unit is a time bucket."""
    return unit is not None and level_of(unit) is None


def check_definition(data: Any, filename: str, session: Session | None = None) -> ReportSpec:
    """Check a report definition and return it, or raise naming each JSON path.

    A ``records:<form>`` dataset is checked against the form's fields only when a
    session is given (the loader gives one; forms load before reports).
    """
    problems = [(f"{filename}: {error.json_path}", error.message)
                for error in VALIDATOR.iter_errors(data)]
    if not problems:
        problems = [(f"{filename}: {path}", text)
                    for path, text in dataset_problems(data, session)]
    if problems:
        raise InvalidDefinition(N_("The report definition %(file)s is not valid."),
                                problems=problems, file=filename)
    return ReportSpec(key=data["key"], title=data["title"], body=data)


def dataset_problems(data: dict[str, Any], session: Session | None) -> list[tuple[str, str]]:
    """Return problems with fields, operators and values the chosen dataset cannot take."""
    source = dataset(data["dataset"], "en", session)
    if source is None:
        if data["dataset"].startswith("records:") and session is None:
            return []
        return [("$.dataset", f"unknown dataset {data['dataset']!r}")]
    problems = _field_problems(source, data)
    for i, condition in enumerate(data.get("filters", [])):
        problems += _condition_problems(source, condition, f"$.filters[{i}]")
    for i, measure in enumerate(data["measures"]):
        problems += _measure_problems(source, measure, f"$.measures[{i}]")
    for i, parameter in enumerate(data.get("parameters", [])):
        problems += _parameter_problems(source, parameter, f"$.parameters[{i}]")
    groups = [group_of(g) for g in data.get("group_by", [])]
    for i, (_, name, unit) in enumerate(groups):
        kind = source.fields[name].type if name in source.fields else None
        if is_bucket(unit) and kind not in ("datetime", "date"):
            problems.append((f"$.group_by[{i}].bucket", f"{name!r} is not a date or time"))
        if level_of(unit) and kind and source.fields[name].taxonomy is None:
            problems.append((f"$.group_by[{i}].level", f"{name!r} holds no taxonomy codes"))
        elif level_of(unit) and kind and session is not None and source.tree(name) is None:
            problems.append((f"$.group_by[{i}].level", f"the taxonomy "
                             f"{source.fields[name].taxonomy!r} of {name!r} is not published"))
    known = {m["key"] for m in data["measures"]} | {key for key, _, _ in groups}
    problems += [(f"$.sort[{i}].key", f"sorts by {s['key']!r}, which is not shown")
                 for i, s in enumerate(data.get("sort", [])) if s["key"] not in known]
    shown = data["visualisation"].get("measures", [])
    problems += [(f"$.visualisation.measures[{i}]", f"no measure {key!r}")
                 for i, key in enumerate(shown) if key not in known]
    return problems


def _field_problems(source: Dataset, data: dict[str, Any]) -> list[tuple[str, str]]:
    """Return the places that name a field the dataset does not have."""
    used = [(f"$.filters[{i}].field", f["field"]) for i, f in enumerate(data.get("filters", []))]
    used += [(f"$.group_by[{i}]" + ("" if isinstance(g, str) else ".field"), group_of(g)[1])
             for i, g in enumerate(data.get("group_by", []))]
    used += [(f"$.measures[{i}].{part}", m[part]) for i, m in enumerate(data["measures"])
             for part in ("field", "bucket_on") if part in m]
    return [(path, f"unknown field {name!r} in dataset {source.key!r}")
            for path, name in used if name not in source.fields]


def _measure_problems(source: Dataset, measure: dict[str, Any],
                      path: str) -> list[tuple[str, str]]:
    """Return problems with one measure: a missing or unsuitable field, bad conditions."""
    agg, name = measure["agg"], measure.get("field")
    problems = []
    for part in ("where", "numerator", "denominator"):
        for i, condition in enumerate(measure.get(part, [])):
            problems += _condition_problems(source, condition, f"{path}.{part}[{i}]")
    if name is None:
        if agg not in ("count", "rate"):
            problems.append((f"{path}.field", f"{agg} needs a field"))
        return problems
    kind = source.fields[name].type if name in source.fields else None
    if kind and agg in ("sum", "avg", "percentile") and kind not in NUMERIC:
        problems.append((f"{path}.field", f"{agg} needs a number or a duration, not {kind}"))
    return problems


def _parameter_problems(source: Dataset, parameter: dict[str, Any],
                        path: str) -> list[tuple[str, str]]:
    """Return problems with one reader parameter: its field must exist and suit its type."""
    name = parameter.get("field") or PARAMETER_FIELDS.get(parameter["type"])
    if name is None:
        return [(f"{path}.field", "a date range needs a field")]
    if name not in source.fields:
        return [(f"{path}.field", f"unknown field {name!r} in dataset {source.key!r}")]
    kind = source.fields[name].type
    if parameter["type"] == "date_range" and kind not in ("datetime", "date"):
        return [(f"{path}.field", f"{name!r} is not a date or time")]
    return []


def _condition_problems(source: Dataset, condition: dict[str, Any],
                        path: str) -> list[tuple[str, str]]:
    """Return problems with one condition: an operator or value its field's type refuses."""
    if condition["field"] not in source.fields:
        return [(f"{path}.field", f"unknown field {condition['field']!r} in dataset "
                                  f"{source.key!r}")]
    field = source.fields[condition["field"]]
    op, value = condition["op"], condition.get("value")
    if op not in TYPED_OPERATORS[field.type]:
        return [(f"{path}.op", f"{op} does not apply to a {field.type} field")]
    if op in ("is_null", "not_null", "is_true", "is_false"):
        return [] if value is None else [(f"{path}.value", f"{op} takes no value")]
    values = value if op in ("in", "not_in", "between") else [value]
    if not isinstance(values, list) or (op == "between" and len(values) != 2) or not values:
        return [(f"{path}.value", f"{op} needs " + ("two values" if op == "between"
                                                      else "a list of values"))]
    for item in values:
        problem = _value_problem(field.type, field.choices, item, op)
        if problem:
            return [(f"{path}.value", problem)]
    return []


def _value_problem(kind: str, choices: dict[str, str], value: Any, op: str) -> str | None:
    """Return why a value does not suit a field's type, or None."""
    if kind in NUMERIC and (isinstance(value, bool) or not isinstance(value, (int, float))):
        return f"{value!r} is not a number"
    if kind in ("datetime", "date"):
        try:
            (date if kind == "date" else datetime).fromisoformat(str(value))
        except ValueError:
            return f"{value!r} is not an ISO date" + ("" if kind == "date" else " or time")
    if kind == "string":
        if not isinstance(value, str):
            return f"{value!r} is not text"
        if choices and op != "contains" and value not in choices:
            return f"{value!r} is not one of {', '.join(sorted(choices))}"
    return None


def dumps(spec: ReportSpec) -> str:
    """Serialise a checked definition for the catalogue."""
    return json.dumps(spec.body, ensure_ascii=False, sort_keys=True)
