"""Dashboards in the catalogue: who may open which, their tiles, shared parameters, home pages.

A tile passes each shared parameter to its report when the report declares a
parameter of the same type (a dashboard's period becomes the report's date range,
whatever the report calls it); a tile whose report the reader may not open says
so instead of showing numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from andon import catalog
from andon.database import utcnow
from andon.errors import Forbidden, NotFound
from andon.i18n import N_
from andon.identity.models import User
from andon.reports import parameters
from andon.reports.dashboard import DashboardSpec
from andon.reports.definition import ReportSpec
from andon.reports.models import HomeChoice
from andon.reports.store import may_read
from andon.reports.store import spec_of as report_of


def spec_of(version: catalog.DefinitionVersion) -> DashboardSpec:
    """Return the checked dashboard stored in a catalogue version."""
    body = version.content
    return DashboardSpec(key=body["key"], title=body["title"], body=body)


def may_open(spec: DashboardSpec, user: User) -> bool:
    """Tell whether the user may open a dashboard."""
    return user.has_role("admin", *spec.roles)


def readable(session: Session, user: User) -> list[DashboardSpec]:
    """Return the published dashboards the user's roles may open."""
    specs = [spec_of(version) for version in catalog.published(session, "dashboard")]
    return [spec for spec in specs if may_open(spec, user)]


def dashboard(session: Session, key: str, user: User) -> DashboardSpec:
    """Return a published dashboard the user may open, or raise why not."""
    try:
        spec = spec_of(catalog.current(session, "dashboard", key))
    except NotFound:
        raise NotFound(N_("There is no dashboard named %(key)s."), key=key) from None
    if not may_open(spec, user):
        raise Forbidden(N_("This dashboard is not open to your role."))
    return spec


def shared(spec: DashboardSpec, raw: Mapping[str, str], today: date | None = None,
           locale: str = "en") -> list[parameters.Parameter]:
    """Return the dashboard's shared parameters with the reader's values or their defaults."""
    return parameters.declare(spec.parameters, raw, today, locale)


def values_of(declared: list[parameters.Parameter]) -> dict[str, str]:
    """Return the shared values as the page's query string carries them."""
    return {name: value for p in declared for name, value in p.values.items()}


@dataclass(frozen=True)
class Tile:
    """One tile for one reader: its report and the values it gets, or why it shows nothing."""

    index: int
    body: dict[str, Any]
    report: ReportSpec | None
    values: dict[str, str] = field(default_factory=dict)
    refusal: str | None = None
    unused: list[str] = field(default_factory=list)

    @property
    def visualisation(self) -> dict[str, Any]:
        """Return the tile's visualisation: its own, else its report's."""
        if "visualisation" in self.body:
            return dict(self.body["visualisation"])
        return dict(self.report.body["visualisation"]) if self.report else {"type": "table"}

    @property
    def title(self) -> Any:
        """Return the tile's title: its own, else its report's (a localized text)."""
        if "title" in self.body:
            return self.body["title"]
        return self.report.title if self.report else {"en": self.body["report"]}


def tile(session: Session, spec: DashboardSpec, index: int, user: User,
         shared_values: Mapping[str, str]) -> Tile:
    """Return one tile for a reader, with the shared values its report declares."""
    if not 0 <= index < len(spec.tiles):
        raise NotFound(N_("This dashboard has no tile %(number)s."), number=index + 1)
    body = spec.tiles[index]
    try:
        report = report_of(catalog.current(session, "report", body["report"]))
    except NotFound:
        return Tile(index, body, None, refusal=N_("This report is no longer published."))
    if not may_read(report, user):
        return Tile(index, body, report, refusal=N_("This report is not open to your role."))
    values, unused = tile_values(spec, report, shared_values)
    return Tile(index, body, report, values, unused=unused)


def tiles(session: Session, spec: DashboardSpec, user: User,
          shared_values: Mapping[str, str]) -> list[Tile]:
    """Return every tile of a dashboard for a reader."""
    return [tile(session, spec, i, user, shared_values) for i in range(len(spec.tiles))]


def tile_values(spec: DashboardSpec, report: ReportSpec,
                shared_values: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """Return a report's parameter values from the shared ones, matched by parameter type.

    Also return the types of the shared parameters the report does not declare, which
    therefore do not narrow it.
    """
    declared = {item["type"]: item["key"] for item in reversed(report.body.get("parameters", []))}
    values: dict[str, str] = {}
    unused = []
    for item in spec.parameters:
        kind, key = item["type"], item["key"]
        target = declared.get(kind)
        if target is None:
            unused.append(kind)
        elif kind == "date_range":
            for end in ("from", "to"):
                values[f"{target}_{end}"] = shared_values.get(f"{key}_{end}", "")
        else:
            values[target] = shared_values.get(key, "")
    return values, unused


def home_of(session: Session, user: User) -> DashboardSpec | None:
    """Return the dashboard a person lands on: their choice, else one made home for a role.

    None means the inbox: chosen, or no dashboard open to them is anyone's home. A
    chosen dashboard that is gone, or closed to them since, counts as no choice.
    """
    choice = session.get(HomeChoice, user.id)
    if choice is not None:
        if choice.dashboard_key is None:
            return None
        try:
            return dashboard(session, choice.dashboard_key, user)
        except (NotFound, Forbidden):
            pass
    return next((spec for spec in readable(session, user)
                 if user.has_role(*spec.home_for)), None)


def choose_home(session: Session, user: User, key: str | None) -> None:
    """Make a dashboard the person's home page, or the inbox with no key."""
    if key is not None:
        dashboard(session, key, user)
    choice = session.get(HomeChoice, user.id)
    if choice is None:
        session.add(HomeChoice(user_id=user.id, dashboard_key=key))
    else:
        choice.dashboard_key, choice.chosen_at = key, utcnow()
    session.flush()


def home_key(session: Session, user: User) -> str | None:
    """Return the key of the person's home dashboard, None for the inbox."""
    found = home_of(session, user)
    return found.key if found else None

