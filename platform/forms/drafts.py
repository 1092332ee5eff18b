"""Form drafts: what the builder edits, saved with a revision, checked, then published.

A draft holds the definition's JSON text, exactly what ``andon load`` would
read. It may be incomplete or wrong while the administrator works: problems
are listed (``problems``) but never lose an edit; only ``publish`` refuses.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from andon import catalog
from andon.errors import InvalidDefinition, InvalidSubmission, NotFound
from andon.forms import builder
from andon.forms.models import Record
from andon.forms.schema import check_definition
from andon.forms.store import deploy_form
from andon.forms.taxonomy_fields import check_form as check_taxonomy_fields
from andon.i18n import N_, Message
from andon.identity.models import User
from andon.jsonfile import parse_json

KIND = "form"


@dataclass(frozen=True)
class Draft:
    """What the builder edits: the parsed definition and the revision read.

    With no draft saved yet, it is the newest version, ``revision`` 0 and
    ``saved`` None: the first change starts the draft.
    """

    key: str
    definition: dict[str, Any]
    revision: int
    saved: catalog.DefinitionDraft | None
    source: str
    based_on: int | None = None


@dataclass(frozen=True)
class Summary:
    """One form in the administrators' list."""

    key: str
    title: dict[str, str]
    published: catalog.DefinitionVersion | None
    latest: catalog.DefinitionVersion | None
    draft: catalog.DefinitionDraft | None
    records: int

    @property
    def status(self) -> str:
        """Return draft (never published), published or retired."""
        if self.published is not None:
            return "published"
        return "retired" if self.latest is not None else "draft"


def dumps(definition: Mapping[str, Any]) -> str:
    """Return a definition as the JSON text a file holds (two-space indent, UTF-8 text)."""
    return json.dumps(definition, ensure_ascii=False, indent=2) + "\n"


def forms(session: Session) -> list[Summary]:
    """Return every form, published, retired or only drafted, by key."""
    definitions = session.scalars(select(catalog.Definition).where(
        catalog.Definition.kind == KIND).order_by(catalog.Definition.key))
    counts = dict(session.execute(select(Record.form_key, func.count()).group_by(
        Record.form_key)).all())
    result = []
    for definition in definitions:
        versions = sorted(definition.versions, key=lambda v: v.number)
        published = next((v for v in versions if v.status == "published"), None)
        draft = catalog.draft(session, KIND, definition.key)
        latest = versions[-1] if versions else None
        if draft is None and latest is None:
            continue
        title = _draft_title(draft) if draft is not None and latest is None else (
            dict(latest.title) if latest is not None else {})
        result.append(Summary(definition.key, title, published, latest, draft,
                              counts.get(definition.key, 0)))
    return result


def _draft_title(draft: catalog.DefinitionDraft) -> dict[str, str]:
    """Return the title a draft gives, or the key when its JSON does not say."""
    try:
        title = json.loads(draft.source).get("title")
    except (ValueError, AttributeError):
        title = None
    return title if isinstance(title, dict) else {"en": draft.definition.key}


def create(session: Session, key: str, title: Mapping[str, str], user: User) -> Draft:
    """Start a new form as a draft; the key must not be used by another form."""
    definition = builder.new_definition(key, title)
    if catalog.versions_of(session, KIND, key) or catalog.draft(session, KIND, key):
        raise InvalidSubmission({"key": Message(N_("A form with the key %(key)s exists "
                                                   "already."), {"key": key})},
                                {"key": key, **{f"title_{k}": v for k, v in title.items()}})
    saved = catalog.save_draft(session, KIND, key, dumps(definition), None, user.id)
    return Draft(key, definition, saved.revision, saved, saved.source)


def open_draft(session: Session, key: str) -> Draft:
    """Return the form's draft, or its newest version to start one from (saving nothing)."""
    copy = catalog.working_copy(session, KIND, key)
    return Draft(key, _parsed(copy.source), copy.revision, copy.saved, copy.source,
                 copy.based_on)


def _parsed(source: str) -> dict[str, Any]:
    """Return a draft's definition; JSON that is not an object reads as an empty one."""
    try:
        value = json.loads(source)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def save(session: Session, draft: Draft, definition: Mapping[str, Any], user: User) -> Draft:
    """Save a changed definition over the revision the editor read (``StaleDraft`` if stale)."""
    saved = catalog.save_draft(session, KIND, draft.key, dumps(definition), draft.revision,
                               user.id)
    return Draft(draft.key, dict(definition), saved.revision, saved, saved.source,
                 saved.based_on)


def at_revision(session: Session, key: str, revision: int) -> Draft:
    """Return the draft as the editor read it: its current state and the revision they had."""
    return replace(open_draft(session, key), revision=revision)


def apply_json(session: Session, draft: Draft, text: str, user: User) -> Draft:
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
    return save(session, draft, value, user)


def problems(session: Session, definition: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Return what keeps the draft from being published, each with its JSON path."""
    try:
        spec = check_definition(dict(definition), "draft")
        check_taxonomy_fields(session, spec, "draft")
    except InvalidDefinition as error:
        return error.problems or [("$", error.message.render())]
    return []


def publish(session: Session, key: str, revision: int,
            user: User) -> catalog.DefinitionVersion:
    """Publish the draft the editor read as the form's new version and delete the draft.

    ``InvalidDefinition`` lists the problems and keeps the draft; ``StaleDraft``
    says someone saved the draft since.
    """
    saved = catalog.draft(session, KIND, key)
    if saved is None:
        raise NotFound(N_("There is no draft of the form %(key)s."), key=key)
    if saved.revision != revision:
        raise catalog.StaleDraft(saved)
    version, _ = deploy_form(session, saved.source, f"{key}.json", user.id)
    catalog.discard_draft(session, KIND, key)
    return version


def definition_of(version: catalog.DefinitionVersion) -> dict[str, Any]:
    """Return the definition a version was published from."""
    return _parsed(version.source)
