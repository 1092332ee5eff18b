"""Form drafts: what the builder edits, saved with a revision, checked, then published.

A draft holds the definition's JSON text, exactly what ``andon load`` would
read. It may be incomplete or wrong while the administrator works: problems
are listed (``problems``) but never lose an edit; only ``publish`` refuses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from andon import catalog, json_drafts
from andon.errors import InvalidDefinition, InvalidSubmission, NotFound
from andon.forms import builder
from andon.forms.models import Record
from andon.forms.schema import check_definition
from andon.forms.store import deploy_form
from andon.forms.taxonomy_fields import check_form as check_taxonomy_fields
from andon.i18n import N_, Message
from andon.identity.models import User
from andon.json_drafts import Draft

KIND = "form"
DRAFTS = json_drafts.Drafts(KIND)
open_draft, save, at_revision, apply_json = (
    DRAFTS.open_draft, DRAFTS.save, DRAFTS.at_revision, DRAFTS.apply_json)


@dataclass(frozen=True)
class Summary(json_drafts.Listed):
    """One form in the administrators' list, with its record count."""

    records: int = 0


def forms(session: Session) -> list[Summary]:
    """Return every form, published, retired or only drafted, by key."""
    counts = dict(session.execute(select(Record.form_key, func.count()).group_by(
        Record.form_key)).all())
    return [Summary(**vars(listed), records=counts.get(listed.key, 0))
            for listed in json_drafts.listing(session, KIND)]


def create(session: Session, key: str, title: Mapping[str, str], user: User) -> Draft:
    """Start a new form as a draft; the key must not be used by another form."""
    definition = builder.new_definition(key, title)
    if catalog.versions_of(session, KIND, key) or catalog.draft(session, KIND, key):
        raise InvalidSubmission({"key": Message(N_("A form with the key %(key)s exists "
                                                   "already."), {"key": key})},
                                {"key": key, **{f"title_{k}": v for k, v in title.items()}})
    return DRAFTS.create(session, key, definition, user)


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
    return json_drafts.parsed(version.source)
