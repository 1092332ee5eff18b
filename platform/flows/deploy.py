"""Turn a BPMN file into a published flow version."""

from __future__ import annotations

import json
from collections.abc import Mapping

from sqlalchemy.orm import Session

from andon import catalog
from andon.errors import InvalidDefinition, NotFound
from andon.flows import owners, permissions, schedules
from andon.flows.bpmn import ParsedFlow, StepInfo, load_bpmn
from andon.forms.store import form_spec_at
from andon.i18n import N_


def deploy_flow(session: Session, xml: bytes, filename: str, user_id: int | None = None,
                dmn_files: Mapping[str, bytes] | None = None
                ) -> tuple[catalog.DefinitionVersion, bool]:
    """Check a BPMN file (and the DMN files it calls) and publish it when changed."""
    parsed = load_bpmn(xml, filename, dmn_files)
    _check_owners(session, parsed, filename)
    forms = _pinned_forms(session, parsed, filename)
    calendar = _pinned_calendar(session, parsed, filename)
    start = _start_step(parsed, filename)
    _check_permissions(session, parsed, forms, start.id, filename)
    schedules.check(session, parsed, forms, start.properties.get("form"), filename)
    compiled = json.dumps({
        "process_id": parsed.process_id,
        "spec": parsed.spec_json,
        "start_form": start.properties.get("form"),
        "forms": forms,
        "calendar": calendar,
        "steps": [{"id": s.id, "name": s.name, "lane": s.lane, "kind": s.kind,
                   "properties": s.properties} for s in parsed.steps],
        "decisions": parsed.decisions,
        "schedule": schedules.describe(parsed),
    }, ensure_ascii=False)
    title = {"en": parsed.properties.get("title_en", parsed.name),
             "zh-CN": parsed.properties.get("title_zh", parsed.name)}
    source = xml.decode()
    tables = {"decisions": parsed.decisions} if parsed.decisions else {}
    pins = json.dumps({"forms": forms, "calendar": calendar, **tables}, sort_keys=True)
    version, changed = catalog.publish(session, "flow", parsed.process_id, title, source,
                                       compiled, user_id, fingerprint=f"{source}\n{pins}")
    if changed:
        schedules.take_over(session, version)
    return version, changed


def _check_owners(session: Session, parsed: ParsedFlow, filename: str) -> None:
    """Make sure the users and groups that owner and cc rules name exist."""
    problems = []
    for step in parsed.steps:
        if step.kind in ("userTask", "manualTask"):
            rules = [owners.parse(step.properties.get("owner"), step.lane),
                     *owners.parse_copies(step.properties.get("cc"))]
            problems += [(f"{filename}: {step.id}", gap) for gap in
                         (owners.missing(session, rule) for rule in rules) if gap]
    if problems:
        raise InvalidDefinition(N_("The flow %(file)s is not valid."), problems=problems,
                                file=filename)


def _pinned_forms(session: Session, parsed: ParsedFlow, filename: str) -> dict[str, int]:
    """Pin each form the steps name to its published version; instances keep these."""
    forms, problems = {}, []
    for step in parsed.steps:
        key = step.properties.get("form")
        if not key or key in forms:
            continue
        try:
            forms[key] = catalog.current(session, "form", key).id
        except NotFound:
            problems.append((f"{filename}: {step.id}", f"names the form {key!r}, "
                             "which is not loaded; load definitions/forms first"))
    if problems:
        raise InvalidDefinition(N_("The flow %(file)s is not valid."), problems=problems,
                                file=filename)
    return forms


def _check_permissions(session: Session, parsed: ParsedFlow, forms: Mapping[str, int],
                       start: str, filename: str) -> None:
    """Check the steps' editable, readonly and hidden fields against the pinned forms."""
    steps = {s.id: s.properties for s in parsed.steps if s.kind in ("userTask", "manualTask")}
    specs = {key: form_spec_at(session, version) for key, version in forms.items()}
    problems = [(f"{filename}: {step}", text)
                for step, text in permissions.check(steps, specs, start)]
    if problems:
        raise InvalidDefinition(N_("The flow %(file)s is not valid."), problems=problems,
                                file=filename)


def _pinned_calendar(session: Session, parsed: ParsedFlow, filename: str) -> int | None:
    """Pin the business calendar the process names (property ``calendar``), if any."""
    key = parsed.properties.get("calendar")
    if not key:
        return None
    try:
        return catalog.current(session, "calendar", key).id
    except NotFound:
        raise InvalidDefinition(N_("The flow %(file)s is not valid."), file=filename, problems=[
            (f"{filename}: {parsed.process_id}", f"names the calendar {key!r}, which is not "
             "loaded; load definitions/calendars first")]) from None


def _start_step(parsed: ParsedFlow, filename: str) -> StepInfo:
    """Return the user step where the starter fills in the start form."""
    for step in parsed.steps:
        if step.kind == "userTask" and step.properties.get("owner") == "starter":
            return step
    raise InvalidDefinition(
        N_("The flow %(file)s is not valid."), file=filename,
        problems=[(f"{filename}: {parsed.process_id}",
                   "needs a first user task with owner 'starter' and a form")])
