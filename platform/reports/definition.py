"""Report definitions: Andon's own JSON Schema plus checks against the dataset."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator

from andon.errors import InvalidDefinition
from andon.i18n import N_
from andon.reports.datasets import dataset

OPERATORS = ("eq", "ne", "lt", "le", "gt", "ge", "in", "is_null", "not_null")
AGGREGATES = ("count", "count_distinct", "sum", "avg", "min", "max")
TEXTS = {"type": "object", "properties": {"en": {"type": "string"},
                                         "zh-CN": {"type": "string"}},
         "required": ["en", "zh-CN"]}
SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["key", "title", "dataset", "measures", "visualisation"],
    "additionalProperties": False,
    "properties": {
        "key": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,63}$"},
        "title": TEXTS,
        "description": TEXTS,
        "roles": {"type": "array", "items": {"enum": ["admin", "designer", "member", "leader"]}},
        "dataset": {"type": "string"},
        "filters": {"type": "array", "maxItems": 50, "items": {
            "type": "object", "required": ["field", "op"], "additionalProperties": False,
            "properties": {"field": {"type": "string"}, "op": {"enum": list(OPERATORS)},
                           "value": {}}}},
        "group_by": {"type": "array", "maxItems": 5, "items": {"type": "string"}},
        "measures": {"type": "array", "minItems": 1, "maxItems": 10, "items": {
            "type": "object", "required": ["key", "agg", "label"], "additionalProperties": False,
            "properties": {"key": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,63}$"},
                           "agg": {"enum": list(AGGREGATES)}, "field": {"type": "string"},
                           "label": TEXTS}}},
        "sort": {"type": "array", "items": {
            "type": "object", "required": ["key"], "additionalProperties": False,
            "properties": {"key": {"type": "string"}, "dir": {"enum": ["asc", "desc"]}}}},
        "limit": {"type": "integer", "minimum": 1, "maximum": 10000},
        "visualisation": {"type": "object", "required": ["type"],
                          "properties": {"type": {"enum": ["table"]}}},
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


def check_definition(data: Any, filename: str) -> ReportSpec:
    """Check a report definition and return it, or raise naming each JSON path."""
    problems = [(f"{filename}: {error.json_path}", error.message)
                for error in VALIDATOR.iter_errors(data)]
    if not problems:
        problems = _dataset_problems(data, filename)
    if problems:
        raise InvalidDefinition(N_("The report definition %(file)s is not valid."),
                                problems=problems, file=filename)
    return ReportSpec(key=data["key"], title=data["title"], body=data)


def _dataset_problems(data: dict[str, Any], filename: str) -> list[tuple[str, str]]:
    """Return problems with fields that the chosen dataset does not have."""
    source = dataset(data["dataset"])
    if source is None:
        return [(f"{filename}: $.dataset", f"unknown dataset {data['dataset']!r}")]
    fields = set(source.fields)
    measures = {m["key"] for m in data["measures"]}
    used = [(f"$.filters[{i}].field", f["field"]) for i, f in enumerate(data.get("filters", []))]
    used += [(f"$.group_by[{i}]", name) for i, name in enumerate(data.get("group_by", []))]
    used += [(f"$.measures[{i}].field", m["field"])
             for i, m in enumerate(data["measures"]) if "field" in m]
    problems = [(f"{filename}: {path}", f"unknown field {name!r} in dataset {source.key!r}")
                for path, name in used if name not in fields]
    known = measures | set(data.get("group_by", []))
    problems += [(f"{filename}: $.sort[{i}].key", f"sorts by {s['key']!r}, which is not shown")
                 for i, s in enumerate(data.get("sort", [])) if s["key"] not in known]
    problems += [(f"{filename}: $.measures[{i}].field", f"{m['agg']} needs a field")
                 for i, m in enumerate(data["measures"])
                 if m["agg"] != "count" and "field" not in m]
    return problems


def dumps(spec: ReportSpec) -> str:
    """Serialise a checked definition for the catalogue."""
    return json.dumps(spec.body, ensure_ascii=False, sort_keys=True)
