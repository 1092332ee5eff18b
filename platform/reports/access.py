"""Row-level access: which rows of a dataset a reader may count, see and export.

The rule, the same for charts, tables, drill-downs and exports:

- admins and leaders see every row (of a form's records: if the form lets them list its
  records, see the last point);
- everyone else sees the rows of their own org unit (a task, instance, audit
  event or escalation belongs to the org unit of the person who started the
  instance, a record to its creator's), the instances they started, the
  instances on which they hold or completed a task (with all those instances'
  tasks and events), the records they created and the audit events they did
  (``creator`` in a dataset's scope). Projects have no membership of their own,
  so a project's rows are seen through the same instances.
- records also need the form's own record rule (``records.readers``): a reader
  who may not list a form's records sees none of them in reports either.
"""

from __future__ import annotations

from sqlalchemy import exists, false, or_
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import ColumnElement

from andon.flows.models import Task
from andon.identity.models import User
from andon.reports.datasets import Dataset

SEE_ALL_ROLES = ("admin", "leader")


def sees_all(user: User) -> bool:
    """Tell whether a reader sees every row of every dataset."""
    return user.has_role(*SEE_ALL_ROLES)


def visible(session: Session, source: Dataset, user: User) -> ColumnElement[bool] | None:
    """Return the condition that keeps the rows the reader may see; None for all rows."""
    if source.form_key is not None and not _may_read_form(session, source.form_key, user):
        return false()
    if sees_all(user):
        return None
    scope = source.scope
    ways: list[ColumnElement[bool]] = []
    if user.org_unit_id is not None:
        ways.append(scope["unit"] == user.org_unit_id)
    if "starter" in scope:
        ways.append(scope["starter"] == user.id)
    if "instance" in scope:
        held = aliased(Task)
        ways.append(exists().where(held.instance_id == scope["instance"],
                                   or_(held.assignee_id == user.id,
                                       held.completed_by_id == user.id)))
    if "creator" in scope:
        ways.append(scope["creator"] == user.id)
    return or_(*ways) if ways else false()


def _may_read_form(session: Session, form_key: str, user: User) -> bool:
    """Tell whether the form's record rule lets the reader list its records."""
    from andon.forms.record_access import may_read, published_spec

    spec = published_spec(session, form_key)
    return spec is not None and may_read(spec, user)
