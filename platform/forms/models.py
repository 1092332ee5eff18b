"""Records and their history of changes: the rows every form defines."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from andon.catalog import DefinitionVersion
from andon.database import Base, utcnow
from andon.identity.models import User

# JSONB on PostgreSQL: it can be indexed (below) and compared inside; JSON text elsewhere.
RecordData = JSON().with_variant(JSONB(), "postgresql")


class Record(Base):
    """One filled-in form, kept with the form version it was created with."""

    __tablename__ = "record"
    __table_args__ = (
        Index("ix_record_form_created", "form_key", "created_at"),
        Index("ix_record_form_updated", "form_key", "updated_at"),
        # PostgreSQL only: one GIN index serves the equality and "in" filters on any field of
        # any form, because those filters are written as containment (data @> '{"f": v}', see
        # andon.forms.jsonsql). Fields are defined by administrators at run time, so
        # per-field expression indexes cannot be known in a migration; a hot report field
        # can get one later, e.g. ((data->>'amount')::numeric). jsonb_path_ops keeps the
        # index small and supports exactly @>.
        Index("ix_record_data", "data", postgresql_using="gin",
              postgresql_ops={"data": "jsonb_path_ops"},
              info={"only_on": "postgresql"}).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    form_key: Mapped[str] = mapped_column(String(128))
    form_version_id: Mapped[int] = mapped_column(ForeignKey("definition_version.id"),
                                                 index=True)
    data: Mapped[dict[str, Any]] = mapped_column(RecordData)
    # Lower-cased values and option labels in each language, for "contains" search (LIKE) on
    # any database. A pg_trgm GIN index on it would serve large forms; not needed yet.
    search_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    lock_version: Mapped[int] = mapped_column(default=1)

    form_version: Mapped[DefinitionVersion] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    updated_by: Mapped[User] = relationship(foreign_keys=[updated_by_id])

    __mapper_args__ = {"version_id_col": lock_version}


class RecordChange(Base):
    """Who created or changed a record, when, and each changed field's value before and after."""

    __tablename__ = "record_change"
    __table_args__ = (Index("ix_record_change_record", "record_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("record.id", ondelete="CASCADE"))
    version: Mapped[int]
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    # {"field": [before, after]}; a field absent before or after is null there.
    changes: Mapped[dict[str, Any]] = mapped_column(default=dict)

    by: Mapped[User] = relationship()


class RecordLink(Base):
    """One reference field of a record pointing at another record (``andon.forms.record_links``).

    Kept on every save from the record's data, so both directions are one
    indexed query: outgoing links by ``source_id``, incoming ones by ``target_id``.
    """

    __tablename__ = "record_link"

    source_id: Mapped[int] = mapped_column(ForeignKey("record.id", ondelete="CASCADE"),
                                           primary_key=True)
    # the field's input name: "customer", "lines[0][part]"
    field_path: Mapped[str] = mapped_column(String(512), primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("record.id", ondelete="CASCADE"),
                                           index=True)
