"""Drafts of JSON definitions (forms, reports): what a builder edits, saved with a revision.

A draft holds the definition's JSON text, exactly what ``andon load`` would read
from a file. It may be incomplete or wrong while the administrator works: the
builders list its problems but never lose an edit; only publishing refuses.
With no draft saved yet, the draft is the newest version, ``revision`` 0 and
``saved`` None: the first change starts it (``andon.catalog.save_draft``). Each kind
has its ``Drafts``; ``andon.forms.drafts`` and ``andon.reports.drafts`` add their checks.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from andon import catalog
from andon.errors import InvalidDefinition, InvalidSubmission
from andon.i18n import N_, Message
from andon.identity.models import User
from andon.jsonfile import parse_json


@dataclass(frozen=True)
class Draft:
    """What a builder edits: the parsed definition and the revision read (0: none yet)."""

    key: str
    definition: dict[str, Any]
    revision: int
    saved: catalog.DefinitionDraft | None
    source: str
    based_on: int | None = None


def dumps(definition: Mapping[str, Any]) -> str:
    """Return a definition as the JSON text a file holds (two-space indent, UTF-8 text)."""
    return json.dumps(definition, ensure_ascii=False, indent=2) + "\n"


@dataclass(frozen=True)
class Drafts:
    """The draft operations of one kind of definition (``form``, ``report``)."""

    kind: str

    def create(self, session: Session, key: str, definition: dict[str, Any],
               user: User) -> Draft:
        """Save the first draft of a new definition."""
        saved = catalog.save_draft(session, self.kind, key, dumps(definition), None, user.id)
        return Draft(key, definition, saved.revision, saved, saved.source)

    def open_draft(self, session: Session, key: str) -> Draft:
        """Return the draft, or the newest version to start one from (saving nothing)."""
        copy = catalog.working_copy(session, self.kind, key)
        return Draft(key, parsed(copy.source), copy.revision, copy.saved, copy.source,
                     copy.based_on)

    def save(self, session: Session, draft: Draft, definition: Mapping[str, Any],
             user: User) -> Draft:
        """Save a changed definition over the revision the editor read (``StaleDraft``)."""
        saved = catalog.save_draft(session, self.kind, draft.key, dumps(definition),
                                   draft.revision, user.id)
        return Draft(draft.key, dict(definition), saved.revision, saved, saved.source,
                     saved.based_on)

    def at_revision(self, session: Session, key: str, revision: int) -> Draft:
        """Return the draft as the editor read it: its current state and their revision."""
        return replace(self.open_draft(session, key), revision=revision)

    def apply_json(self, session: Session, draft: Draft, text: str, user: User) -> Draft:
        """Replace the draft with JSON the administrator typed; bad JSON names its line."""
        try:
            value = parse_json(text, "JSON")
        except InvalidDefinition as error:
            where, what = error.problems[0] if error.problems else ("", "")
            raise InvalidSubmission({"json": Message(N_("This is not valid JSON (%(where)s: "
                                                        "%(what)s). Nothing was changed."),
                                                     {"where": where, "what": what})},
                                    {"json": text}) from None
        if not isinstance(value, dict) or value.get("key") != draft.key:
            raise InvalidSubmission({"json": Message(N_(
                "The JSON must be an object whose key stays %(key)s."), {"key": draft.key})},
                {"json": text})
        return self.save(session, draft, value, user)


def parsed(source: str) -> dict[str, Any]:
    """Return a draft's definition; JSON that is not an object reads as an empty one."""
    try:
        value = json.loads(source)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class Listed:
    """One definition in a builder's list: its versions' states and its draft."""

    key: str
    title: dict[str, str]
    published: catalog.DefinitionVersion | None
    latest: catalog.DefinitionVersion | None
    draft: catalog.DefinitionDraft | None

    @property
    def status(self) -> str:
        """Return draft (never published), published or retired."""
        if self.published is not None:
            return "published"
        return "retired" if self.latest is not None else "draft"


def listing(session: Session, kind: str) -> list[Listed]:
    """Return every definition of a kind, published, retired or only drafted, by key."""
    found = session.scalars(select(catalog.Definition).where(
        catalog.Definition.kind == kind).order_by(catalog.Definition.key))
    result = []
    for definition in found:
        versions = sorted(definition.versions, key=lambda v: v.number)
        published = next((v for v in versions if v.status == "published"), None)
        draft = catalog.draft(session, kind, definition.key)
        latest = versions[-1] if versions else None
        if draft is None and latest is None:
            continue
        title = dict(latest.title) if latest is not None else \
            parsed(draft.source).get("title") if draft is not None else None
        result.append(Listed(definition.key, title if isinstance(title, dict) else
                             {"en": definition.key}, published, latest, draft))
    return result
