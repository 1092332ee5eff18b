"""User, group and org-unit pickers: a select of who or what exists, stored by a stable key.

Layout ``{"widget": "user"}`` (``"group"``, ``"orgunit"``) on a string
property; a nested field names it with ``x-widget``. A user field stores the
user name, which is what the owner rule ``field:<name>`` resolves
(``andon.flows.owners``); a group stores its key (as ``group:<key>``) and an
org unit its key (as ``orgunit:<key>``), never a database id, so data stays
meaningful across exports and re-imports. The pickers offer active users (all
groups and org units) and show display names; a stored user who has since
been deactivated stays readable and may be kept unchanged. Beyond
``SEARCH_ABOVE`` choices a select is too long to use: the picker becomes a
search box (``search`` answers it through htmx; without JavaScript the user
types the user name or key, which is checked on save).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from andon.forms.nodes import Fields, walk
from andon.forms.schema import FormSpec
from andon.forms.shapes import shapes_for
from andon.i18n import N_, Message
from andon.identity.models import Group, OrgUnit, User

KINDS = ("user", "group", "orgunit")
SEARCH_ABOVE = 50
SEARCH_LIMIT = 20
INACTIVE = N_("%(label)s (inactive)")
UNKNOWN = {
    "user": N_("There is no active user named %(value)s; choose one from the list."),
    "group": N_("There is no group %(value)s; choose one from the list."),
    "orgunit": N_("There is no org unit %(value)s; choose one from the list."),
}


def choices(session: Session, kind: str, value: str = "") -> list[tuple[str, str, bool]]:
    """Return (key, display name, inactive) of what a picker of ``kind`` offers.

    Active users only, plus ``value`` when it names a user who is no longer active.
    """
    if kind == "user":
        rows = session.execute(select(User.username, User.display_name, User.active)
                               .where((User.active.is_(True)) | (User.username == value))
                               .order_by(User.display_name, User.username)).all()
        return [(name, shown or name, not active) for name, shown, active in rows]
    model = Group if kind == "group" else OrgUnit
    keys = session.execute(select(model.key, model.name).order_by(model.name, model.key)).all()
    return [(key, name or key, False) for key, name in keys]


def pickers(session: Session, built: Fields) -> Fields:
    """Give each user, group and org-unit field its choices (or a search box) and its value's name.

    ``extra["search"]`` is set when there are more than ``SEARCH_ABOVE`` to choose from.
    """
    counted: dict[str, int] = {}
    for node in walk(list(built)):
        if node.node == "field" and node.widget in KINDS:
            kind = node.widget
            if kind not in counted:
                counted[kind] = count(session, kind)
            if counted[kind] > SEARCH_ABOVE:
                found = lookup(session, kind, node.value) if node.value else None
                node.extra = {"search": True, "choices": [],
                              "shown": found[0] if found else ""}
                continue
            offered = choices(session, kind, node.value)
            node.extra = {"choices": offered,
                          "shown": next((n for k, n, _ in offered if k == node.value), "")}
    return built


def count(session: Session, kind: str) -> int:
    """Return how many a picker of ``kind`` offers: active users, all groups or org units."""
    if kind == "user":
        return session.scalar(select(func.count()).select_from(User)
                              .where(User.active.is_(True))) or 0
    model = Group if kind == "group" else OrgUnit
    return session.scalar(select(func.count()).select_from(model)) or 0


def lookup(session: Session, kind: str, key: str) -> tuple[str, bool] | None:
    """Return (display name, inactive) of the user, group or org unit keyed ``key``, if any."""
    if kind == "user":
        row = session.execute(select(User.display_name, User.active)
                              .where(User.username == key)).first()
        return (row[0] or key, not row[1]) if row else None
    model = Group if kind == "group" else OrgUnit
    name = session.scalar(select(model.name).where(model.key == key))
    return None if name is None else (name or key, False)


def search(session: Session, kind: str, text: str,
           limit: int = SEARCH_LIMIT) -> list[tuple[str, str]]:
    """Return (key, display name) of active users (groups, org units) whose name holds ``text``."""
    pattern = "%" + text.casefold().replace("\\", "\\\\").replace("%", "\\%").replace(
        "_", "\\_") + "%"
    if kind == "user":
        rows = session.execute(
            select(User.username, User.display_name)
            .where(User.active.is_(True),
                   or_(func.lower(User.display_name).like(pattern, escape="\\"),
                       func.lower(User.username).like(pattern, escape="\\")))
            .order_by(User.display_name, User.username).limit(limit)).all()
    else:
        model = Group if kind == "group" else OrgUnit
        rows = session.execute(
            select(model.key, model.name)
            .where(or_(func.lower(model.name).like(pattern, escape="\\"),
                       func.lower(model.key).like(pattern, escape="\\")))
            .order_by(model.name, model.key).limit(limit)).all()
    return [(key, name or key) for key, name in rows]


def fields_of(spec: FormSpec) -> dict[str, str]:
    """Return the picker kind of every top-level user, group or org-unit field, by name."""
    shapes = shapes_for(spec)
    props = shapes.resolve(shapes.root).get("properties") or {}
    return {name: prop["x-widget"] for name, prop in props.items()
            if isinstance(prop, dict) and prop.get("x-widget") in KINDS}


def validate_keys(session: Session, spec: FormSpec, data: Mapping[str, Any],
                  previous: Mapping[str, Any] | None = None) -> dict[str, Message]:
    """Return a Message per picker field whose value names nobody that may be chosen.

    A user who is no longer active may stay when the value comes back unchanged.
    """
    errors = {}
    for name, kind in fields_of(spec).items():
        value = data.get(name)
        if not isinstance(value, str) or not value:
            continue
        kept = previous is not None and previous.get(name) == value
        found = lookup(session, kind, value)
        if found is None or (found[1] and not kept):
            errors[name] = Message(UNKNOWN[kind], {"value": value})
    return errors


def readable(session: Session, spec: FormSpec, data: Mapping[str, Any],
             translate: Callable[[str], str] = str) -> dict[str, Any]:
    """Return the data with every picked key replaced by its display name."""
    shown = dict(data)
    for name, kind in fields_of(spec).items():
        value = data.get(name)
        if isinstance(value, str) and value:
            label, inactive = lookup(session, kind, value) or (value, False)
            shown[name] = translate(INACTIVE) % {"label": label} if inactive else label
    return shown
