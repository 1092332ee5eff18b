"""Load definition files: calendars, taxonomies, forms, flows, reports, then dashboards.

Each file loads in its own savepoint: a bad file is reported with its problems
and leaves nothing behind, while the good ones load. Files of one kind that
fail are tried again after the others of their kind, so a form may refer to
a form whose file sorts after it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from andon import catalog
from andon.errors import AndonError, InvalidDefinition
from andon.flows.calendars import load_calendar
from andon.flows.deploy import deploy_flow
from andon.forms.store import deploy_form
from andon.forms.taxonomies import deploy_taxonomy
from andon.i18n import N_
from andon.jsonfile import parse_json
from andon.reports.dashboard import check_dashboard
from andon.reports.dashboard import dumps as dump_dashboard
from andon.reports.definition import check_definition as check_report
from andon.reports.definition import dumps as dump_report

Deployer = Callable[[Session, Path, int | None], tuple[catalog.DefinitionVersion, bool]]


@dataclass(frozen=True)
class Loaded:
    """What happened to one file."""

    path: Path
    kind: str
    key: str = ""
    version: int = 0
    created: bool = False
    error: AndonError | None = None


def _calendar(session: Session, path: Path, user_id: int | None) -> tuple[
        catalog.DefinitionVersion, bool]:
    """Load one business calendar file."""
    source = path.read_text(encoding="utf-8")
    calendar = load_calendar(parse_json(source, path.name), path.name)
    return catalog.publish(session, "calendar", calendar.key, calendar.name, source,
                           json.dumps(json.loads(source), ensure_ascii=False), user_id)


def _taxonomy(session: Session, path: Path, user_id: int | None) -> tuple[
        catalog.DefinitionVersion, bool]:
    """Load one taxonomy file."""
    return deploy_taxonomy(session, path.read_text(encoding="utf-8"), path.name, user_id)


def _form(session: Session, path: Path, user_id: int | None) -> tuple[
        catalog.DefinitionVersion, bool]:
    """Load one form definition file."""
    return deploy_form(session, path.read_text(encoding="utf-8"), path.name, user_id)


def _flow(session: Session, path: Path, user_id: int | None) -> tuple[
        catalog.DefinitionVersion, bool]:
    """Load one BPMN file with the DMN files beside it (``<decision id>.dmn``)."""
    tables = {dmn.name: dmn.read_bytes() for dmn in path.parent.glob("*.dmn")}
    return deploy_flow(session, path.read_bytes(), path.name, user_id, tables)


def _report(session: Session, path: Path, user_id: int | None) -> tuple[
        catalog.DefinitionVersion, bool]:
    """Load one report definition file."""
    source = path.read_text(encoding="utf-8")
    spec = check_report(parse_json(source, path.name), path.name, session)
    return catalog.publish(session, "report", spec.key, spec.title, source, dump_report(spec),
                           user_id)


def _dashboard(session: Session, path: Path, user_id: int | None) -> tuple[
        catalog.DefinitionVersion, bool]:
    """Load one dashboard definition file (its reports load first)."""
    source = path.read_text(encoding="utf-8")
    spec = check_dashboard(parse_json(source, path.name), path.name, session)
    return catalog.publish(session, "dashboard", spec.key, spec.title, source,
                           dump_dashboard(spec), user_id)


KINDS: list[tuple[str, str, Deployer]] = [
    ("calendar", "calendars/*.json", _calendar),
    ("taxonomy", "taxonomies/*.json", _taxonomy),
    ("form", "forms/*.json", _form),
    ("flow", "flows/*.bpmn", _flow),
    ("report", "reports/*.json", _report),
    ("dashboard", "dashboards/*.json", _dashboard),
]


def load_folder(session: Session, folder: Path, user_id: int | None = None) -> list[Loaded]:
    """Load every definition under a folder (searched recursively), in dependency order."""
    if not folder.is_dir():
        raise InvalidDefinition(N_("%(file)s is not a folder."), file=str(folder))
    results = []
    for kind, pattern, deploy in KINDS:
        results += _load_kind(session, kind, sorted(folder.rglob(pattern)), deploy, user_id)
    return results


def _load_kind(session: Session, kind: str, paths: list[Path], deploy: Deployer,
               user_id: int | None) -> list[Loaded]:
    """Load the files of one kind in passes, in path order within each pass.

    A file may need another of its kind loaded first (a form whose record field
    names ``project`` before ``project.json``): the files that failed are tried
    again as long as a pass loads something, and each keeps its last result.
    """
    done: dict[Path, Loaded] = {}
    pending = paths
    while pending:
        for path in pending:
            done[path] = _load_one(session, kind, path, deploy, user_id)
        failed = [path for path in pending if done[path].error is not None]
        if len(failed) == len(pending):
            break
        pending = failed
    return [done[path] for path in paths]


def _load_one(session: Session, kind: str, path: Path, deploy: Deployer,
              user_id: int | None) -> Loaded:
    """Load one file in a savepoint, keeping nothing from it on error."""
    savepoint = session.begin_nested()
    try:
        version, created = deploy(session, path, user_id)
    except AndonError as error:
        savepoint.rollback()
        return Loaded(path, kind, error=error)
    savepoint.commit()
    return Loaded(path, kind, version.definition.key, version.number, created)
