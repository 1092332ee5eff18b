"""Report drafts: what the report builder edits, saved with a revision, checked, published.

Like form drafts (``andon.forms.drafts``), a draft holds the definition's JSON
text, exactly what ``andon load`` reads from ``definitions/reports/``. It may be
incomplete while the designer works: problems are listed with their JSON path
but never lose an edit; only ``publish`` refuses.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from andon import catalog, json_drafts
from andon.errors import InvalidDefinition, InvalidSubmission, NotFound
from andon.i18n import N_, Message
from andon.identity.models import User
from andon.json_drafts import Draft
from andon.jsonfile import parse_json
from andon.reports.definition import KEY, check_definition
from andon.reports.definition import dumps as dump_spec

KIND = "report"
DRAFTS = json_drafts.Drafts(KIND)
open_draft, save, at_revision, apply_json = (
    DRAFTS.open_draft, DRAFTS.save, DRAFTS.at_revision, DRAFTS.apply_json)
Summary = json_drafts.Listed


def reports(session: Session) -> list[Summary]:
    """Return every report, published, retired or only drafted, by key."""
    return json_drafts.listing(session, KIND)


def new_definition(key: str, title: Mapping[str, str]) -> dict[str, Any]:
    """Return the definition a new report starts from: count the tasks, as a table."""
    return {"key": key, "title": dict(title), "roles": ["admin", "leader"], "dataset": "tasks",
            "filters": [], "parameters": [], "group_by": [],
            "measures": [{"key": "count", "agg": "count",
                          "label": {"en": "Number", "zh-CN": "数量"}}],
            "sort": [], "limit": 1000, "visualisation": {"type": "table"}}


def create(session: Session, key: str, title: Mapping[str, str], user: User) -> Draft:
    """Start a new report as a draft; the key must be new and well formed."""
    short = {"en": "en", "zh-CN": "zh"}  # how the new-report form names its inputs
    typed = {"key": key, **{f"title_{short[k]}": v for k, v in title.items()}}
    errors = {}
    if not _is_key(key):
        errors["key"] = Message(N_("Use lower-case letters, digits and _, starting with a "
                                   "letter (at most 64)."))
    elif catalog.versions_of(session, KIND, key) or catalog.draft(session, KIND, key):
        errors["key"] = Message(N_("A report with the key %(key)s exists already."),
                                {"key": key})
    for locale, text in title.items():
        if not text.strip():
            errors[f"title_{short[locale]}"] = Message(N_("Give the title in both languages."))
    if errors:
        raise InvalidSubmission(errors, typed)
    definition = new_definition(key, {k: v.strip() for k, v in title.items()})
    return DRAFTS.create(session, key, definition, user)


def _is_key(key: str) -> bool:
    """Tell whether a text is a valid report key."""
    return bool(re.fullmatch(KEY["pattern"], key))


def problems(session: Session, definition: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Return what keeps the draft from being published, each with its JSON path."""
    try:
        check_definition(dict(definition), "draft", session)
    except InvalidDefinition as error:
        return [(where.removeprefix("draft: "), what) for where, what in error.problems] or \
            [("$", error.message.render())]
    return []


def publish(session: Session, key: str, revision: int,
            user: User) -> catalog.DefinitionVersion:
    """Publish the draft the editor read as the report's new version and delete the draft.

    ``InvalidDefinition`` lists the problems and keeps the draft; ``StaleDraft``
    says someone saved the draft since.
    """
    saved = catalog.draft(session, KIND, key)
    if saved is None:
        raise NotFound(N_("There is no draft of the report %(key)s."), key=key)
    if saved.revision != revision:
        raise catalog.StaleDraft(saved)
    spec = check_definition(parse_json(saved.source, f"{key}.json"), f"{key}.json", session)
    version, _ = catalog.publish(session, KIND, key, spec.title, saved.source, dump_spec(spec),
                                 user.id)
    catalog.discard_draft(session, KIND, key)
    return version


def definition_of(version: catalog.DefinitionVersion) -> dict[str, Any]:
    """Return the definition a version was published from."""
    return json_drafts.parsed(version.source)


def compare(older: Any, newer: Any, path: str = "$") -> list[tuple[str, str, str]]:
    """Return what differs between two definitions as (JSON path, before, after)."""
    if isinstance(older, dict) and isinstance(newer, dict):
        found = []
        for name in [*older, *[n for n in newer if n not in older]]:
            found += compare(older.get(name), newer.get(name), f"{path}.{name}")
        return found
    if isinstance(older, list) and isinstance(newer, list) and len(older) == len(newer):
        return [change for i, (a, b) in enumerate(zip(older, newer, strict=True))
                for change in compare(a, b, f"{path}[{i}]")]
    if older == newer:
        return []
    return [(path, _shown(older), _shown(newer))]


def _shown(value: Any) -> str:
    """Return a value as compact JSON, or empty text for none."""
    return "" if value is None else json.dumps(value, ensure_ascii=False)
