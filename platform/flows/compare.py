"""Compare two versions of a flow: steps added, removed and changed, with their configuration.

Elements are matched by id. A changed step lists what changed as a
translatable label (its msgid) with the text before and after: its name (in
both languages), its BPMN type, its form, owner rule, deadline, reminders,
escalation chain, CC, field permissions, the conditions of a gateway's
outgoing flows, its incoming and outgoing flows, and any other Andon property
(``spiff:properties``, as :func:`andon.flows.elements.properties` reads them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from andon.flows import subset
from andon.flows.bpmn import parse_xml
from andon.flows.elements import NS, local, properties
from andon.i18n import N_, normalize_locale

#: step properties and the label each difference gets, in the order they are listed
LABELS = {
    "form": N_("Form"),
    "owner": N_("Owner rule"),
    "deadline": N_("Deadline"),
    "deadline_at": N_("Deadline from a date"),
    "deadline_time": N_("Deadline time of day"),
    "working": N_("Working or calendar time"),
    "remind_before": N_("Reminders"),
    "escalation": N_("Escalation chain"),
    "cc": N_("CC"),
    "editable": N_("Editable fields"),
    "readonly": N_("Read-only fields"),
    "hidden": N_("Hidden fields"),
}
OTHER = N_("Property %(name)s")


@dataclass(frozen=True)
class StepChange:
    """A step in both versions and what differs: (label msgid, before, after) triples."""

    element_id: str
    name: str
    differences: list[tuple[str, str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class FlowComparison:
    """What a newer version adds, removes and changes, step by step (id, name in the locale)."""

    added: list[tuple[str, str]] = field(default_factory=list)
    removed: list[tuple[str, str]] = field(default_factory=list)
    changed: list[StepChange] = field(default_factory=list)


def compare(old_xml: bytes, new_xml: bytes, locale: str) -> FlowComparison:
    """Compare two BPMN documents of one flow; names are given in ``locale``."""
    old, new = _steps(parse_xml(old_xml, "old.bpmn")), _steps(parse_xml(new_xml, "new.bpmn"))
    zh = normalize_locale(locale) == "zh-CN"
    comparison = FlowComparison(
        added=[(key, _name(step, zh)) for key, step in new.items() if key not in old],
        removed=[(key, _name(step, zh)) for key, step in old.items() if key not in new])
    for key, before in old.items():
        if key in new:
            differences = _differences(before, new[key], old, new, zh)
            if differences:
                comparison.changed.append(StepChange(key, _name(new[key], zh), differences))
    return comparison


@dataclass(frozen=True)
class _Step:
    """What the comparison reads of one flow node."""

    kind: str
    name: str
    props: dict[str, str]
    incoming: tuple[tuple[str, str], ...]  # (other step id, condition)
    outgoing: tuple[tuple[str, str], ...]
    default: str | None


def _steps(root: Any) -> dict[str, _Step]:
    """Read every flow node of every process and subprocess by id."""
    steps = {}
    for container in subset.containers(root):
        flows = container.findall("bpmn:sequenceFlow", NS)
        for node in container:
            if local(node) not in subset.STEP_KINDS or not node.get("id"):
                continue
            node_id = node.get("id")
            default = next((f.get("targetRef") for f in flows
                            if f.get("id") == node.get("default")), None)
            steps[node_id] = _Step(
                local(node), node.get("name") or "", properties(node),
                tuple(sorted((f.get("sourceRef") or "", _condition(f)) for f in flows
                             if f.get("targetRef") == node_id)),
                tuple(sorted((f.get("targetRef") or "", _condition(f)) for f in flows
                             if f.get("sourceRef") == node_id)),
                default)
    return steps


def _condition(flow: Any) -> str:
    """Return a sequence flow's condition text, or ''."""
    return (flow.findtext("bpmn:conditionExpression", "", NS) or "").strip()


def _name(step: _Step, zh: bool) -> str:
    """Return a step's name in the locale: its name_zh property in Chinese, else its name."""
    return (step.props.get("name_zh") if zh else None) or step.name


def _differences(before: _Step, after: _Step, old: dict[str, _Step], new: dict[str, _Step],
                 zh: bool) -> list[tuple[str, str, str]]:
    """List what differs between two versions of one step."""
    found = []
    if before.name != after.name:
        found.append((N_("Name"), before.name, after.name))
    if before.props.get("name_zh", "") != after.props.get("name_zh", ""):
        found.append((N_("Chinese name"), before.props.get("name_zh", ""),
                      after.props.get("name_zh", "")))
    if before.kind != after.kind:
        found.append((N_("Type"), before.kind, after.kind))
    keys = [*LABELS, *sorted((set(before.props) | set(after.props)) - set(LABELS)
                             - {"name_zh"})]
    for key in keys:
        was, now = before.props.get(key, ""), after.props.get(key, "")
        if was != now:
            found.append((LABELS.get(key, OTHER), was, now))
    if _is_deciding(after) or _is_deciding(before):
        if (before.outgoing, before.default) != (after.outgoing, after.default):
            found.append((N_("Conditions"), _conditions(before, old, zh),
                          _conditions(after, new, zh)))
    for label, was_flows, now_flows, was_steps, now_steps in (
            (N_("Incoming flows"), before.incoming, after.incoming, old, new),
            (N_("Outgoing flows"), before.outgoing, after.outgoing, old, new)):
        if {other for other, _ in was_flows} != {other for other, _ in now_flows}:
            found.append((label, _ends(was_flows, was_steps, zh), _ends(now_flows, now_steps, zh)))
    return found


def _is_deciding(step: _Step) -> bool:
    """Tell whether a step is an exclusive or inclusive gateway."""
    return step.kind in ("exclusiveGateway", "inclusiveGateway")


def _conditions(step: _Step, steps: dict[str, _Step], zh: bool) -> str:
    """Describe a gateway's ways out: one line per target with its condition or 'default'."""
    lines = []
    for target, condition in step.outgoing:
        shown = "default" if target == step.default and not condition else condition or "—"
        lines.append(f"{_label(target, steps, zh)}: {shown}")
    return "\n".join(lines)


def _ends(flows: tuple[tuple[str, str], ...], steps: dict[str, _Step], zh: bool) -> str:
    """Describe the steps at the other end of some flows, by name and id, one per line."""
    return "\n".join(sorted({_label(other, steps, zh) for other, _ in flows}))


def _label(step_id: str, steps: dict[str, _Step], zh: bool) -> str:
    """Name a step as 'Name (id)', or by id alone when it has no name."""
    step = steps.get(step_id)
    name = _name(step, zh) if step is not None else ""
    return f"{name} ({step_id})" if name else step_id
