"""Versioned definitions: calendars, forms, flows, reports and taxonomies share one catalogue.

A definition has a kind and a key and a list of immutable versions. Loading the
same content again changes nothing; loading changed content publishes a new
version and retires the one before, which stays readable for the instances and
records made with it.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from andon.database import Base, utcnow
from andon.errors import NotFound
from andon.i18n import N_, localize

KINDS = ("calendar", "form", "flow", "report", "taxonomy")


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

    @property
    def content(self) -> Any:
        """Return the compiled form of this version, decoded from JSON (shared: do not change)."""
        return _decoded(self.compiled)

    def label(self, locale: str) -> str:
        """Return the title in the locale, falling back to any title or the key."""
        return localize(self.title, locale) or self.definition.key


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
