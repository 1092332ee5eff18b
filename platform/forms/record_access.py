"""Who may read and edit the records of a form: one rule, read from the form's layout.

Reading and creating: every signed-in user, unless the layout names
``"records": {"readers": [roles]}``; then only holders of those roles (and
admins). Editing: the record's creator, admins, and holders of the roles in
``"records": {"editors": [roles]}`` - always among the readers. Kept apart
from ``andon.forms.records`` so the modules records use (references and
links) can ask the same question without importing it.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from andon import catalog
from andon.errors import NotFound
from andon.forms.models import Record
from andon.forms.schema import FormSpec
from andon.i18n import N_
from andon.identity.models import User


def record_rules(spec: FormSpec) -> dict[str, list[str]]:
    """Return the form's record rules: the roles of its readers and editors (may be empty)."""
    rules = spec.layout.get("records", {})
    if not isinstance(rules, dict):
        return {"readers": [], "editors": []}
    return {name: [str(r) for r in rules.get(name, []) if isinstance(r, str)]
            for name in ("readers", "editors")}


def may_read(spec: FormSpec, user: User) -> bool:
    """Tell whether the user may list, read and create the form's records."""
    readers = record_rules(spec)["readers"]
    return user.active and (not readers or user.has_role("admin", *readers))


def published_spec(session: Session, form_key: str) -> FormSpec | None:
    """Return the published version of a form, None if there is none."""
    try:
        return FormSpec(**catalog.current(session, "form", form_key).content)
    except NotFound:
        return None


def rules_spec(session: Session, record: Record) -> FormSpec:
    """Return the form whose record rules apply: the published version, else the record's."""
    return published_spec(session, record.form_key) or spec_at(session,
                                                                record.form_version_id)


def spec_at(session: Session, version_id: int) -> FormSpec:
    """Return the form as it was in one version (``store.form_spec_at``, without store)."""
    version = session.get(catalog.DefinitionVersion, version_id)
    if version is None:
        raise NotFound(N_("There is no form version %(id)s."), id=version_id)
    return FormSpec(**version.content)


def readable_keys(session: Session, keys: set[str], user: User) -> dict[str, FormSpec]:
    """Return, by key, the published forms among ``keys`` whose records the user may read."""
    found = {key: published_spec(session, key) for key in keys}
    return {key: spec for key, spec in found.items() if spec is not None and may_read(spec, user)}
