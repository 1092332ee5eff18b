"""Administrators' edits to a taxonomy: each one publishes a new version, recorded with who.

Codes are added, renamed, retired and restored, never deleted. Bad input
raises ``InvalidSubmission`` with a message by field that names the code, so
the page keeps what was typed.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from andon import audit, catalog
from andon.errors import InvalidDefinition, InvalidSubmission, NotFound
from andon.forms import taxonomies
from andon.i18n import N_, Message
from andon.identity.models import User

EVENT = "taxonomy.changed"


@dataclass(frozen=True)
class Change:
    """One version of a taxonomy as the history shows it."""

    number: int
    status: str
    at: datetime
    by: User | None
    action: str
    code: str


def canonical_of(session: Session, key: str) -> dict[str, Any]:
    """Return a copy of the published taxonomy in canonical form, to edit."""
    taxonomies.current(session, key)  # NotFound names the taxonomy
    return copy.deepcopy(json.loads(catalog.current(session, taxonomies.KIND, key).compiled))


def add_code(session: Session, key: str, parent: str | None, code: str,
             label: Mapping[str, str], user: User) -> catalog.DefinitionVersion:
    """Add a code at the top or under ``parent`` and publish the new version."""
    canonical = canonical_of(session, key)
    code = code.strip()
    values = {"parent": parent or "", "code": code, **_label_values(label)}
    errors = _label_errors(label)
    existing = taxonomies.build(canonical).get(code)
    if not taxonomies.CODE_RE.match(code):
        errors["code"] = Message(N_("Use 1-64 letters, digits, '_', '.' or '-' for the code, "
                                    "starting with a letter or digit."))
    elif existing is not None:
        errors["code"] = Message(N_("The code %(code)s is already used for \"%(label)s\"."),
                                 {"code": code, "label": existing.label})
    siblings = canonical["codes"] if not parent else _node(canonical, key, parent)["children"]
    if parent:
        errors.update(_parent_errors(taxonomies.build(canonical), parent))
    if errors:
        raise InvalidSubmission(errors, values)
    siblings.append({"code": code, "label": _label(label), "retired": False, "children": []})
    return _save(session, canonical, user, "added", code)


def _parent_errors(tree: taxonomies.Taxonomy, parent: str) -> dict[str, Message]:
    """Return why no code may be added under ``parent``, if it may not."""
    if tree.codes[parent].depth >= taxonomies.MAX_DEPTH:
        return {"parent": Message(N_("%(code)s is already at the deepest level (%(depth)s)."),
                                  {"code": parent, "depth": taxonomies.MAX_DEPTH})}
    if tree.is_retired(parent):
        return {"parent": Message(N_("%(code)s is retired; restore it before adding codes "
                                     "under it."), {"code": parent})}
    return {}


def rename_code(session: Session, key: str, code: str, label: Mapping[str, str],
                user: User) -> catalog.DefinitionVersion:
    """Give a code new labels and publish the new version."""
    canonical = canonical_of(session, key)
    node = _node(canonical, key, code)
    errors = _label_errors(label)
    if not errors and _label(label) == node["label"]:
        errors["label_en"] = Message(N_("These are already the labels of %(code)s; nothing "
                                        "was changed."), {"code": code})
    if errors:
        raise InvalidSubmission(errors, {"code": code, **_label_values(label)})
    node["label"] = _label(label)
    return _save(session, canonical, user, "renamed", code)


def set_retired(session: Session, key: str, code: str, retired: bool,
                user: User) -> catalog.DefinitionVersion:
    """Retire a code (it stays readable, nobody can choose it) or restore it."""
    canonical = canonical_of(session, key)
    node = _node(canonical, key, code)
    if node["retired"] == retired:
        raise InvalidSubmission({"code": Message(
            N_("%(code)s is already retired.") if retired else N_("%(code)s is not retired."),
            {"code": code})}, {"code": code})
    node["retired"] = retired
    return _save(session, canonical, user, "retired" if retired else "restored", code)


def history(session: Session, key: str) -> list[Change]:
    """Return every version of a taxonomy, newest first, with who made it and what changed."""
    version = catalog.current(session, taxonomies.KIND, key)
    events = {event.detail.get("version"): event.detail
              for event in audit.history(session, "definition", version.definition_id)
              if event.kind == EVENT}
    return [Change(v.number, v.status, v.created_at, _user(session, v.created_by_id),
                   events.get(v.number, {}).get("action", "loaded"),
                   events.get(v.number, {}).get("code", ""))
            for v in reversed(version.definition.versions)]


def _user(session: Session, user_id: int | None) -> User | None:
    """Return a user by id, or None."""
    return session.get(User, user_id) if user_id else None


def _save(session: Session, canonical: dict[str, Any], user: User, action: str,
          code: str) -> catalog.DefinitionVersion:
    """Check the edited taxonomy, publish it as a new version and record who did what."""
    key = canonical["key"]
    try:
        checked = taxonomies.check_taxonomy(canonical, key)
    except InvalidDefinition as invalid:  # pragma: no cover - the checks above come first
        raise InvalidSubmission({"code": Message(N_("%(code)s cannot be saved: %(problem)s"), {
            "code": code, "problem": "; ".join(p for _, p in invalid.problems)})}, {}) from None
    version, _ = taxonomies.publish_canonical(session, checked, taxonomies.dumps(checked),
                                              key, user.id)
    audit.record(session, EVENT, "definition", version.definition_id, user.id, key=key,
                 version=version.number, action=action, code=code)
    return version


def _node(canonical: dict[str, Any], key: str, code: str) -> dict[str, Any]:
    """Return the node of a code in a canonical taxonomy, or raise NotFound naming it."""
    for node in _nodes(canonical["codes"]):
        if node["code"] == code:
            return node
    raise NotFound(N_("The taxonomy %(key)s has no code %(code)s."), key=key, code=code)


def _nodes(nodes: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Yield every node of a canonical tree, depth first."""
    for node in nodes:
        yield node
        yield from _nodes(node["children"])


def _label(label: Mapping[str, str]) -> dict[str, str]:
    """Return a label with its texts trimmed."""
    return {locale: str(label.get(locale, "")).strip() for locale in taxonomies.LOCALES}


def _label_values(label: Mapping[str, str]) -> dict[str, str]:
    """Return the label as the edit form's field values."""
    return {f"label_{locale}": str(label.get(locale, "")) for locale in taxonomies.LOCALES}


def _label_errors(label: Mapping[str, str]) -> dict[str, Message]:
    """Return a message for each language whose label is empty."""
    return {f"label_{locale}": Message(N_("Enter the label in this language."))
            for locale in taxonomies.LOCALES if not str(label.get(locale, "")).strip()}
