"""Reports in the catalogue: which a user may open, and loading one."""

from __future__ import annotations

from sqlalchemy.orm import Session

from andon import catalog
from andon.errors import Forbidden, NotFound
from andon.i18n import N_
from andon.identity.models import User
from andon.reports.definition import ReportSpec


def spec_of(version: catalog.DefinitionVersion) -> ReportSpec:
    """Return the checked definition stored in a catalogue version."""
    body = version.content
    return ReportSpec(key=body["key"], title=body["title"], body=body)


def readable(session: Session, user: User) -> list[ReportSpec]:
    """Return the published reports the user's roles may open."""
    specs = [spec_of(version) for version in catalog.published(session, "report")]
    return [spec for spec in specs if may_read(spec, user)]


def may_read(spec: ReportSpec, user: User) -> bool:
    """Tell whether the user may open a report."""
    return user.has_role("admin", *spec.roles)


def report(session: Session, key: str, user: User) -> ReportSpec:
    """Return a published report the user may open, or raise why not."""
    try:
        spec = spec_of(catalog.current(session, "report", key))
    except NotFound:
        raise NotFound(N_("There is no report named %(key)s."), key=key) from None
    if not may_read(spec, user):
        raise Forbidden(N_("This report is not open to your role."))
    return spec
