"""Dashboard definitions: a grid of report tiles sharing the reader's parameters.

A dashboard names the roles that may open it, the shared parameters (date range,
flow, project, org unit) its reader chooses once, and its tiles: each a published
report, its width (of 4 columns) and height (rows), optionally another
visualisation of the same measures. ``docs/reports.md`` describes each part.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator
from sqlalchemy.orm import Session

from andon import catalog
from andon.errors import InvalidDefinition, NotFound
from andon.i18n import N_
from andon.reports.definition import CHARTS, KEY, PARAMETERS, RANGES, TEXTS
from andon.reports.store import spec_of

COLUMNS = 4
ROLES = ["admin", "designer", "member", "leader"]
SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://andon.example/schemas/dashboard.json",
    "type": "object",
    "required": ["key", "title", "tiles"],
    "additionalProperties": False,
    "properties": {
        "key": KEY,
        "title": TEXTS,
        "description": TEXTS,
        "roles": {"type": "array", "items": {"enum": ROLES}},
        "home_for": {"type": "array", "items": {"enum": ROLES}},
        "parameters": {"type": "array", "maxItems": 4, "items": {
            "type": "object", "required": ["key", "type"], "additionalProperties": False,
            "properties": {"key": KEY, "type": {"enum": list(PARAMETERS)}, "label": TEXTS,
                           "default": {"enum": list(RANGES)}}}},
        "tiles": {"type": "array", "minItems": 1, "maxItems": 24, "items": {
            "type": "object", "required": ["report"], "additionalProperties": False,
            "properties": {
                "report": KEY, "title": TEXTS,
                "width": {"type": "integer", "minimum": 1, "maximum": COLUMNS},
                "height": {"type": "integer", "minimum": 1, "maximum": 3},
                "visualisation": {
                    "type": "object", "required": ["type"], "additionalProperties": False,
                    "properties": {"type": {"enum": list(CHARTS)},
                                   "measures": {"type": "array",
                                                "items": {"type": "string"}}}}}}},
    },
}
VALIDATOR = Draft202012Validator(SCHEMA)


@dataclass(frozen=True)
class DashboardSpec:
    """A checked dashboard definition."""

    key: str
    title: dict[str, str]
    body: dict[str, Any]

    @property
    def roles(self) -> list[str]:
        """Return the roles that may open the dashboard (admins always may)."""
        return list(self.body.get("roles", ["admin", "leader"]))

    @property
    def home_for(self) -> list[str]:
        """Return the roles whose members land on this dashboard unless they chose a home."""
        return list(self.body.get("home_for", []))

    @property
    def parameters(self) -> list[dict[str, Any]]:
        """Return the shared parameters the reader chooses once for every tile."""
        return list(self.body.get("parameters", []))

    @property
    def tiles(self) -> list[dict[str, Any]]:
        """Return the tiles in reading order."""
        return list(self.body["tiles"])


def check_dashboard(data: Any, filename: str,
                    session: Session | None = None) -> DashboardSpec:
    """Check a dashboard definition and return it, or raise naming each JSON path.

    With a session, each tile's report must be published (reports load first) and a
    visualisation override may only name that report's measures.
    """
    problems = [(f"{filename}: {error.json_path}", error.message)
                for error in VALIDATOR.iter_errors(data)]
    if not problems:
        problems = [(f"{filename}: {path}", text) for path, text in _problems(data, session)]
    if problems:
        raise InvalidDefinition(N_("The dashboard definition %(file)s is not valid."),
                                problems=problems, file=filename)
    return DashboardSpec(key=data["key"], title=data["title"], body=data)


def _problems(data: dict[str, Any], session: Session | None) -> list[tuple[str, str]]:
    """Return problems the schema cannot see: repeated parameters, unknown reports."""
    problems = []
    seen: set[str] = set()
    for i, parameter in enumerate(data.get("parameters", [])):
        if parameter["type"] in seen:
            problems.append((f"$.parameters[{i}].type",
                             f"a second {parameter['type']} parameter"))
        seen.add(parameter["type"])
        if parameter.get("default") and parameter["type"] != "date_range":
            problems.append((f"$.parameters[{i}].default", "only a date range has a default"))
    if session is None:
        return problems
    for i, tile in enumerate(data["tiles"]):
        try:
            report = spec_of(catalog.current(session, "report", tile["report"]))
        except NotFound:
            problems.append((f"$.tiles[{i}].report", f"no published report {tile['report']!r}"))
            continue
        measures = {m["key"] for m in report.body["measures"]}
        for j, key in enumerate(tile.get("visualisation", {}).get("measures", [])):
            if key not in measures:
                problems.append((f"$.tiles[{i}].visualisation.measures[{j}]",
                                 f"report {report.key!r} has no measure {key!r}"))
    return problems


def dumps(spec: DashboardSpec) -> str:
    """Serialise a checked definition for the catalogue."""
    return json.dumps(spec.body, ensure_ascii=False, sort_keys=True)
