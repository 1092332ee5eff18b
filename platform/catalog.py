"""Versioned definitions: calendars, forms, flows, reports and taxonomies share one catalogue.

A definition has a kind and a key and a list of immutable versions. Loading the
same content again changes nothing; loading changed content publishes a new
version and retires the one before, which stays readable for the instances and
records made with it. A definition may also be retired as a whole (no version
is published) and reactivated.

Administrators editing in the browser work on a draft: at most one per
definition, saved with a revision number so that two people editing the same
draft cannot overwrite each other silently (``StaleDraft``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from andon.database import Base, utcnow
from andon.errors import Conflict, NotFound
from andon.i18n import N_, localize
from andon.identity.models import User

KINDS = ("calendar", "form", "flow", "report", "taxonomy", "dashboard")


class Definition(Base):
    """A form, flow or report, known by its kind and key."""

    __tablename__ = "definition"
    __table_args__ = (UniqueConstraint("kind", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    versions: Mapped[list[DefinitionVersion]] = relationship(
        back_populates="definition", order_by="DefinitionVersion.number")


class DefinitionVersion(Base):
    """One immutable version: the source as loaded and what it compiled to."""

    __tablename__ = "definition_version"
    __table_args__ = (UniqueConstraint("definition_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("definition.id"), index=True)
    number: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default="published")
    title: Mapped[dict[str, Any]]
    source: Mapped[str] = mapped_column(Text)
    compiled: Mapped[str] = mapped_column(Text)
    checksum: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    definition: Mapped[Definition] = relationship(back_populates="versions")
    created_by: Mapped[User | None] = relationship()

    @property
    def content(self) -> Any:
        """Return the compiled form of this version, decoded from JSON (shared: do not change)."""
        return _decoded(self.compiled)

    def label(self, locale: str) -> str:
        """Return the title in the locale, falling back to any title or the key."""
        return localize(self.title, locale) or self.definition.key


class DefinitionDraft(Base):
    """The draft an administrator is editing: free to change, not yet a version."""

    __tablename__ = "definition_draft"

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("definition.id"), unique=True)
    source: Mapped[str] = mapped_column(Text)
    revision: Mapped[int] = mapped_column(default=1)
    based_on: Mapped[int | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    definition: Mapped[Definition] = relationship()
    updated_by: Mapped[User | None] = relationship()


class StaleDraft(Conflict):
    """The draft was saved by someone else since the editor read it."""

    def __init__(self, draft: DefinitionDraft) -> None:
        self.draft = draft
        super().__init__(N_("Someone else saved this draft since you opened it. Their version "
                            "is shown below; your last change was not applied."))


@lru_cache(maxsize=128)
def _decoded(compiled: str) -> Any:
    """Decode a version's compiled JSON once; versions never change."""
    return json.loads(compiled)


def checksum(source: str) -> str:
    """Return the SHA-256 of a definition's source."""
    return hashlib.sha256(source.encode()).hexdigest()


def publish(session: Session, kind: str, key: str, title: dict[str, str], source: str,
            compiled: str, user_id: int | None = None,
            fingerprint: str | None = None) -> tuple[DefinitionVersion, bool]:
    """Publish the source as a new version unless the current one is the same.

    ``fingerprint`` is what "the same" compares when more than the source counts,
    such as the form versions a flow pins.
    """
    definition = session.scalar(
        select(Definition).where(Definition.kind == kind, Definition.key == key))
    if definition is None:
        definition = Definition(kind=kind, key=key)
        session.add(definition)
        session.flush()
    current = _published(session, definition.id)
    digest = checksum(source if fingerprint is None else fingerprint)
    if current is not None and current.checksum == digest:
        return current, False
    if current is not None:
        current.status = "retired"
    number = 1 + max((v.number for v in definition.versions), default=0)
    version = DefinitionVersion(definition=definition, number=number, title=title,
                                source=source, compiled=compiled, checksum=digest,
                                created_by_id=user_id)
    session.add(version)
    session.flush()
    return version, True


def _published(session: Session, definition_id: int) -> DefinitionVersion | None:
    """Return the published version of a definition, if any."""
    return session.scalar(select(DefinitionVersion).where(
        DefinitionVersion.definition_id == definition_id,
        DefinitionVersion.status == "published"))


def current(session: Session, kind: str, key: str) -> DefinitionVersion:
    """Return the published version of the definition or raise NotFound."""
    version = session.scalar(
        select(DefinitionVersion).join(Definition)
        .where(Definition.kind == kind, Definition.key == key,
               DefinitionVersion.status == "published"))
    if version is None:
        raise NotFound(N_("There is no published %(kind)s named %(key)s."), kind=kind, key=key)
    return version


def published(session: Session, kind: str) -> list[DefinitionVersion]:
    """Return the published versions of every definition of a kind."""
    query = (select(DefinitionVersion).join(Definition)
             .where(Definition.kind == kind, DefinitionVersion.status == "published")
             .order_by(Definition.key))
    return list(session.scalars(query))


def all_versions(session: Session) -> list[DefinitionVersion]:
    """Return every version of every definition, newest first within a key."""
    query = (select(DefinitionVersion).join(Definition)
             .order_by(Definition.kind, Definition.key, DefinitionVersion.number.desc()))
    return list(session.scalars(query))


def _definition(session: Session, kind: str, key: str) -> Definition | None:
    """Return the definition of a kind and key, if there is one."""
    return session.scalar(select(Definition).where(Definition.kind == kind, Definition.key == key))


def draft(session: Session, kind: str, key: str) -> DefinitionDraft | None:
    """Return the draft of a definition, if someone started one."""
    return session.scalar(select(DefinitionDraft).join(Definition).where(
        Definition.kind == kind, Definition.key == key))


def save_draft(session: Session, kind: str, key: str, source: str, revision: int | None,
               user_id: int | None = None) -> DefinitionDraft:
    """Save the draft's new source; ``revision`` is the one the editor read (None or 0: none).

    Raises ``StaleDraft`` when the draft changed since (or, for a new draft, exists).
    """
    definition = _definition(session, kind, key)
    if definition is None:
        definition = Definition(kind=kind, key=key)
        session.add(definition)
        session.flush()
    found = session.scalar(select(DefinitionDraft).where(
        DefinitionDraft.definition_id == definition.id).with_for_update())
    if found is None and revision:
        raise NotFound(N_("The draft you were editing was discarded or published; open the "
                          "%(kind)s again."), kind=kind)
    if found is None:
        published_now = _published(session, definition.id)
        found = DefinitionDraft(definition=definition, source=source, revision=1,
                                based_on=published_now.number if published_now else None,
                                updated_by_id=user_id)
        session.add(found)
        session.flush()
        return found
    if (revision or 0) != found.revision:
        raise StaleDraft(found)
    found.source, found.revision = source, found.revision + 1
    found.updated_at, found.updated_by_id = utcnow(), user_id
    session.flush()
    return found


@dataclass(frozen=True)
class WorkingCopy:
    """What an editor opens: the draft, or with none the newest version (nothing saved yet).

    ``revision`` is 0 when there is no draft; saving with it starts one, unless
    someone started one meanwhile (then ``StaleDraft``).
    """

    source: str
    revision: int
    saved: DefinitionDraft | None
    based_on: int | None


def working_copy(session: Session, kind: str, key: str) -> WorkingCopy:
    """Return the draft of a definition, or its newest version to start one from."""
    found = draft(session, kind, key)
    if found is not None:
        return WorkingCopy(found.source, found.revision, found, found.based_on)
    versions = versions_of(session, kind, key)
    if not versions:
        raise NotFound(N_("There is no %(kind)s named %(key)s."), kind=kind, key=key)
    return WorkingCopy(versions[0].source, 0, None, versions[0].number)


def discard_draft(session: Session, kind: str, key: str) -> None:
    """Delete the draft of a definition, if any."""
    found = draft(session, kind, key)
    if found is not None:
        session.delete(found)
        session.flush()


def versions_of(session: Session, kind: str, key: str) -> list[DefinitionVersion]:
    """Return every version of one definition, newest first (empty if none)."""
    return list(session.scalars(
        select(DefinitionVersion).join(Definition)
        .where(Definition.kind == kind, Definition.key == key)
        .order_by(DefinitionVersion.number.desc())))


def retire(session: Session, kind: str, key: str) -> DefinitionVersion:
    """Retire the published version: nothing new is made with the definition any more."""
    version = current(session, kind, key)
    version.status = "retired"
    session.flush()
    return version


def reactivate(session: Session, kind: str, key: str) -> DefinitionVersion:
    """Publish the newest version of a retired definition again."""
    versions = versions_of(session, kind, key)
    if not versions:
        raise NotFound(N_("There is no %(kind)s named %(key)s."), kind=kind, key=key)
    if not any(v.status == "published" for v in versions):
        versions[0].status = "published"
        session.flush()
    return next(v for v in versions if v.status == "published")
