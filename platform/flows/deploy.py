"""Turn a BPMN file into a published flow version."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

from andon import catalog
from andon.errors import InvalidDefinition, NotFound
from andon.flows import design, owners, permissions, schedules
from andon.flows.bpmn import ParsedFlow, StepInfo, load_bpmn
from andon.flows.design import Finding
from andon.flows.elements import message_of
from andon.forms.schema import FormSpec
from andon.forms.store import form_spec_at
from andon.i18n import N_, Message


@dataclass(frozen=True)
class Pins:
    """What a flow version pins when published: its forms' and calendar's versions, its start."""

    forms: dict[str, int]
    calendar: int | None
    start: StepInfo | None


def deploy_flow(session: Session, xml: bytes, filename: str, user_id: int | None = None,
                dmn_files: Mapping[str, bytes] | None = None
                ) -> tuple[catalog.DefinitionVersion, bool]:
    """Check a BPMN file (and the DMN files it calls) and publish it when changed.

    It refuses exactly what :func:`andon.flows.lint.findings` reports as an error.
    """
    parsed = load_bpmn(xml, filename, dmn_files)
    pins, found = review(session, parsed)
    errors = [(f"{filename}: {f.element_id or parsed.process_id}", f.message.render())
              for f in found if f.severity == design.ERROR]
    if errors or pins.start is None:
        raise InvalidDefinition(N_("The flow %(file)s is not valid."), problems=errors,
                                file=filename)
    forms, calendar, start = pins.forms, pins.calendar, pins.start
    compiled = json.dumps({
        "process_id": parsed.process_id,
        "spec": parsed.spec_json,
        "start_form": start.properties.get("form"),
        "forms": forms,
        "calendar": calendar,
        "properties": parsed.properties,
        "steps": [{"id": s.id, "name": s.name, "lane": s.lane, "kind": s.kind,
                   "properties": s.properties} for s in parsed.steps],
        "decisions": parsed.decisions,
        "schedule": schedules.describe(parsed),
    }, ensure_ascii=False)
    title = {"en": parsed.properties.get("title_en", parsed.name),
             "zh-CN": parsed.properties.get("title_zh", parsed.name)}
    source = xml.decode()
    tables = {"decisions": parsed.decisions} if parsed.decisions else {}
    pinned = json.dumps({"forms": forms, "calendar": calendar, **tables}, sort_keys=True)
    version, changed = catalog.publish(session, "flow", parsed.process_id, title, source,
                                       compiled, user_id, fingerprint=f"{source}\n{pinned}")
    if changed:
        schedules.take_over(session, version)
    return version, changed


def review(session: Session, parsed: ParsedFlow) -> tuple[Pins, list[Finding]]:
    """Check a parsed flow against the database and its drawing; return pins and findings.

    Errors: owners, forms and the calendar that do not exist, no starter's step,
    per-step field permissions, a scheduled start's starter and defaults, and the
    drawing's errors (:mod:`andon.flows.design`); warnings come from the drawing.
    """
    problems = _owner_problems(session, parsed) + _follow_up_problems(session, parsed)
    forms, missing = _pinned_forms(session, parsed)
    calendar, late = _pinned_calendar(session, parsed)
    start = _start_step(parsed)
    problems += missing + late
    if start is None:
        problems.append((parsed.process_id, Message(N_(
            "needs a first user task with owner 'starter' and a form"))))
    elif not missing:
        specs = {key: form_spec_at(session, version) for key, version in forms.items()}
        problems += _permission_problems(parsed, specs, start.id)
        problems += _record_rule_problems(parsed, specs)
        problems += [(where, message_of(text)) for where, text in
                     schedules.problems(session, parsed, forms, start.properties.get("form"))]
    found = [Finding(where, design.ERROR, message) for where, message in problems]
    found += design.drawing(parsed.root) if parsed.root is not None else []
    if not missing and parsed.root is not None:
        fields = {name for key in forms for name in form_spec_at(session, forms[key]).properties}
        known = fields | design.set_by_steps(parsed.root, parsed.decisions)
        found += design.conditions(parsed.root, known)
    return Pins(forms, calendar, start), found


def _owner_problems(session: Session, parsed: ParsedFlow) -> list[tuple[str, Message]]:
    """Say which users, groups and org units the owner and cc rules name that do not exist."""
    problems = []
    for step in parsed.steps:
        if step.kind not in ("userTask", "manualTask"):
            continue
        try:
            rules = [owners.parse(step.properties.get("owner"), step.lane),
                     *owners.parse_copies(step.properties.get("cc"))]
        except ValueError:
            continue  # the subset's check reports a rule that does not parse
        problems += [(step.id, message_of(gap)) for gap in
                     (owners.missing(session, rule) for rule in rules) if gap]
    return problems


def _record_rule_problems(parsed: ParsedFlow,
                          specs: Mapping[str, FormSpec]) -> list[tuple[str, Message]]:
    """Say which ``record:`` owner and cc rules name no record field of the flow's forms."""
    references = {name for spec in specs.values() for name in spec.properties
                  if spec.field_layout(name).get("widget") == "record"}
    problems = []
    for step in parsed.steps:
        texts = [step.properties.get("owner") or "", *(step.properties.get("cc") or "").split(",")]
        for text in (t.strip() for t in texts):
            field = text.removeprefix("record:").split(".")[0] if text.startswith("record:") else ""
            if field and field not in references:
                problems.append((step.id, Message(N_(
                    "the rule %(rule)s names %(field)s, which is no record field of this "
                    "flow's forms"), {"rule": repr(text), "field": repr(field)})))
    return problems


def _follow_up_problems(session: Session, parsed: ParsedFlow) -> list[tuple[str, Message]]:
    """Say which flows the escalation action ``start <flow>`` names that are not loaded."""
    problems = []
    for step in parsed.steps:
        levels = [part.split() for part in step.properties.get("escalation", "").split(";")]
        for words in levels:
            if len(words) != 3 or words[1] != "start" or words[2] == parsed.process_id:
                continue
            try:
                catalog.current(session, "flow", words[2])
            except NotFound:
                problems.append((step.id, Message(N_(
                    "escalates by starting the flow %(key)s, which is not loaded"),
                    {"key": repr(words[2])})))
    return problems


def _pinned_forms(session: Session, parsed: ParsedFlow
                  ) -> tuple[dict[str, int], list[tuple[str, Message]]]:
    """Pin each form the steps name to its published version; instances keep these."""
    forms: dict[str, int] = {}
    problems = []
    for step in parsed.steps:
        key = step.properties.get("form")
        if not key or key in forms:
            continue
        try:
            forms[key] = catalog.current(session, "form", key).id
        except NotFound:
            problems.append((step.id, Message(N_(
                "names the form %(key)s, which is not loaded; load definitions/forms first"),
                {"key": repr(key)})))
    return forms, problems


def _permission_problems(parsed: ParsedFlow, specs: Mapping[str, FormSpec],
                         start: str) -> list[tuple[str, Message]]:
    """Check the steps' editable, readonly and hidden fields against the pinned forms."""
    steps = {s.id: s.properties for s in parsed.steps if s.kind in ("userTask", "manualTask")}
    return [(step, message_of(text)) for step, text in permissions.check(steps, specs, start)]


def _pinned_calendar(session: Session, parsed: ParsedFlow
                     ) -> tuple[int | None, list[tuple[str, Message]]]:
    """Pin the business calendar the process names (property ``calendar``), if any."""
    key = parsed.properties.get("calendar")
    if not key:
        return None, []
    try:
        return catalog.current(session, "calendar", key).id, []
    except NotFound:
        return None, [(parsed.process_id, Message(N_(
            "names the calendar %(key)s, which is not loaded; load definitions/calendars "
            "first"), {"key": repr(key)}))]


def _start_step(parsed: ParsedFlow) -> StepInfo | None:
    """Return the user step where the starter fills in the start form, if there is one."""
    for step in parsed.steps:
        if step.kind == "userTask" and step.properties.get("owner") == "starter":
            return step
    return None
