"""The designer's side panel: one element's settings read from a flow draft and written back.

The modeller in the browser edits the diagram; the server owns everything else
about a step. ``view`` reads an element's settings out of the draft's BPMN (its
name and Andon's ``spiff:property`` entries, a flow's condition, a timer) as
the texts of the panel's inputs; ``apply`` writes posted inputs back, checking
each one first and naming the input when it is wrong. Durations are typed as
people say them (``2d``, ``4h``, ``1d 4h``, ``3天``) and stored as ISO 8601.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from lxml import etree

from andon import expressions
from andon.errors import InvalidSubmission, NotFound
from andon.flows import deadlines, owners
from andon.flows.calendars import parse_duration
from andon.flows.designer import parse
from andon.flows.elements import BPMN_NS, NS, SPIFF_NS, local, properties
from andon.flows.plain_time import apply_timer, friendly, timer_values, to_iso
from andon.i18n import N_, Message

HUMAN = ("userTask", "manualTask")
STEP_TYPES = ("task", *HUMAN)  # what the panel can turn into one another
GATEWAYS = ("exclusiveGateway", "inclusiveGateway")
PERMISSIONS = ("editable", "readonly", "hidden")
ESCALATION_ROWS = 4


@dataclass
class ElementView:
    """One element as the panel shows it: what it is and the texts of its inputs."""

    id: str
    kind: str
    values: dict[str, str]
    timer: str | None = None  # timeDuration, timeCycle or timeDate when it is a timer event
    outgoing: list[tuple[str, str, str]] = field(default_factory=list)  # id, name, condition
    escalation: list[tuple[str, str, str]] = field(default_factory=list)



# ---- durations --------------------------------------------------------------------------------

def element(root: Any, element_id: str) -> Any:
    """Return the element with this id, or raise NotFound."""
    found = root.xpath("//*[@id=$id]", id=element_id)
    if not found:
        raise NotFound(N_("There is no element %(id)s in this diagram."), id=element_id)
    return found[0]


def view(xml: str, element_id: str) -> ElementView:
    """Return the panel's view of an element (the process itself when ``element_id`` is '')."""
    root = parse(xml, "draft.bpmn")
    process = root.find("bpmn:process", NS)
    if not element_id or (process is not None and element_id == process.get("id")):
        props = properties(process) if process is not None else {}
        return ElementView(process.get("id", "") if process is not None else "", "process", {
            "title_en": props.get("title_en", process.get("name", "") if process is not None
                                  else ""),
            "title_zh": props.get("title_zh", ""), "calendar": props.get("calendar", "")})
    node = element(root, element_id)
    kind = local(node)
    props = properties(node)
    values = {"name": node.get("name", ""), "name_zh": props.get("name_zh", "")}
    result = ElementView(element_id, kind, values)
    if kind in STEP_TYPES:
        values["step_type"] = kind
    if kind in HUMAN:
        _human_values(props, values, result)
    elif kind == "sequenceFlow":
        condition = node.find("bpmn:conditionExpression", NS)
        values["condition"] = (condition.text or "").strip() if condition is not None else ""
        source = element(root, node.get("sourceRef", ""))
        values["default"] = "on" if source.get("default") == element_id else ""
        values["source_kind"] = local(source)
    elif kind in GATEWAYS:
        for flow_id in [ref.text for ref in node.findall("bpmn:outgoing", NS)]:
            flow = element(root, flow_id or "")
            condition = flow.find("bpmn:conditionExpression", NS)
            result.outgoing.append((flow_id or "", flow.get("name", ""),
                                    (condition.text or "").strip() if condition is not None
                                    else ""))
        values["default"] = node.get("default", "")
    timer = node.find("bpmn:timerEventDefinition", NS)
    if timer is not None:
        result.timer = timer_values(timer, values)
    return result


def _human_values(props: Mapping[str, str], values: dict[str, str],
                  result: ElementView) -> None:
    """Fill the panel values of a user or manual task from its properties."""
    values.update({name: props.get(name, "") for name in ("form", "owner", "cc")})
    values["deadline_time"] = props.get("deadline_time", "working")
    deadline_at = props.get("deadline_at", "")
    field_match = re.fullmatch(r'date\((\w+)\)(?: - duration\("P(\d+)D"\))?', deadline_at)
    if deadline_at and field_match:
        values.update(deadline_mode="field", deadline_field=field_match[1],
                      deadline_before=field_match[2] or "0")
    elif deadline_at:
        values.update(deadline_mode="expression", deadline_expression=deadline_at)
    elif props.get("deadline"):
        values.update(deadline_mode="duration", deadline=friendly(props["deadline"]))
    else:
        values["deadline_mode"] = "none"
    values["remind_before"] = ", ".join(
        friendly(part.strip()) for part in props.get("remind_before", "").split(",")
        if part.strip())
    for level in [part.strip() for part in props.get("escalation", "").split(";")
                  if part.strip()]:
        words = level.split(None, 2) + ["", "", ""]
        delay = "0" if words[0] in ("0", "PT0S") else friendly(words[0])
        result.escalation.append((delay, words[1], words[2]))
    for name in ("readonly", "hidden", "editable"):
        values[name] = props.get(name, "")


def apply(xml: str, element_id: str, posted: Mapping[str, Any], form_fields: list[str],
          today: date) -> str:
    """Write the panel's posted inputs into an element; return the new XML.

    ``form_fields`` are the fields the step's form (or the flow's forms) has, for
    permissions and conditions; ``today`` anchors a new weekly cycle. Every
    problem raises ``InvalidSubmission`` naming its input; nothing is changed then.
    """
    root = parse(xml, "draft.bpmn")
    process = root.find("bpmn:process", NS)
    errors: dict[str, Message] = {}
    if not element_id or (process is not None and element_id == process.get("id")):
        _apply_process(process, posted, errors)
    else:
        node = element(root, element_id)
        kind = local(node)
        wanted = str(posted.get("step_type", ""))
        if kind in STEP_TYPES and wanted in HUMAN and wanted != kind:
            node.tag = f"{{{BPMN_NS}}}{wanted}"  # a plain task becomes a user or manual task
            kind = wanted
        if "name" in posted:
            _set_name(node, str(posted.get("name", "")))
        if kind in HUMAN or "name_zh" in posted:
            _set_property(node, "name_zh", str(posted.get("name_zh", "")).strip())
        if kind in HUMAN:
            _apply_human(node, posted, form_fields, errors)
        elif kind == "sequenceFlow":
            _apply_flow(root, node, posted, form_fields, errors)
        timer = node.find("bpmn:timerEventDefinition", NS)
        if timer is not None:
            apply_timer(timer, posted, today, errors)
    if errors:
        raise InvalidSubmission(errors, dict(posted))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8").decode()


def _apply_process(process: Any, posted: Mapping[str, Any], errors: dict[str, Message]) -> None:
    """Set the flow's titles and calendar."""
    title_en = str(posted.get("title_en", "")).strip()
    title_zh = str(posted.get("title_zh", "")).strip()
    if not title_en and not title_zh:
        errors["title_en"] = Message(N_("Give the flow a title in at least one language."))
        return
    process.set("name", title_en or title_zh)
    _set_property(process, "title_en", title_en or title_zh)
    _set_property(process, "title_zh", title_zh or title_en)
    _set_property(process, "calendar", str(posted.get("calendar", "")).strip())


def _apply_human(node: Any, posted: Mapping[str, Any], form_fields: list[str],
                 errors: dict[str, Message]) -> None:
    """Set a human step's form, owner, deadline, reminders, escalation, CC and permissions."""
    _set_property(node, "form", str(posted.get("form", "")).strip()
                  if local(node) == "userTask" else "")
    owner = str(posted.get("owner", "")).strip()
    try:
        owners.parse(owner or None, "lane")
    except ValueError as error:
        errors["owner"] = Message(N_("This owner rule is not valid: %(error)s"),
                                  {"error": str(error)})
    _set_property(node, "owner", owner)
    cc = ", ".join(_many(posted, "cc"))
    try:
        owners.parse_copies(cc)
    except ValueError as error:
        errors["cc"] = Message(N_("This owner rule is not valid: %(error)s"),
                               {"error": str(error)})
    _set_property(node, "cc", cc)
    timing = _deadline(posted, form_fields, errors)
    reminders = _durations(str(posted.get("remind_before", "")), "remind_before", errors)
    levels = _escalation(posted, errors)
    timing["remind_before"] = ", ".join(reminders)
    timing["escalation"] = "; ".join(levels)
    if not errors:
        try:
            deadlines.parse_timing({k: v for k, v in timing.items() if v})
        except ValueError as error:
            errors["deadline_mode"] = Message(N_("These times do not fit together: %(error)s"),
                                              {"error": str(error)})
    for name, value in timing.items():
        _set_property(node, name, value)
    chosen = {name: [f for f in form_fields if posted.get(f"perm_{f}") == name]
              for name in PERMISSIONS}
    _set_property(node, "readonly", ", ".join(chosen["readonly"]))
    _set_property(node, "hidden", ", ".join(chosen["hidden"]))
    _set_property(node, "editable", "")


def _many(posted: Mapping[str, Any], name: str) -> list[str]:
    """Return every value posted under a name (a multiple select)."""
    getlist = getattr(posted, "getlist", None)
    values = getlist(name) if getlist else [posted.get(name, "")]
    return [str(v).strip() for v in values if str(v).strip()]


def _deadline(posted: Mapping[str, Any], form_fields: list[str],
              errors: dict[str, Message]) -> dict[str, str]:
    """Return the deadline properties the posted deadline inputs mean."""
    mode = str(posted.get("deadline_mode", "none"))
    working = "calendar" if posted.get("deadline_time") == "calendar" else ""
    timing = {"deadline": "", "deadline_at": "", "deadline_time": working}
    if mode == "duration":
        text = str(posted.get("deadline", ""))
        try:
            timing["deadline"] = to_iso(text)
        except ValueError:
            errors["deadline"] = Message(N_("Write a time such as 2d, 4h or 1d 4h."))
    elif mode == "field":
        name = str(posted.get("deadline_field", ""))
        before = str(posted.get("deadline_before", "0")).strip() or "0"
        if name not in form_fields:
            errors["deadline_field"] = Message(N_("Choose a date field of the flow's forms."))
        if not before.isdigit():
            errors["deadline_before"] = Message(N_("Enter a whole number of 0 or more."))
        elif name in form_fields:
            timing["deadline_at"] = f"date({name})" + (
                f' - duration("P{int(before)}D")' if int(before) else "")
    elif mode == "expression":
        expression = str(posted.get("deadline_expression", "")).strip()
        try:
            expressions.check(expression)
        except expressions.ExpressionError as error:
            errors["deadline_expression"] = error.message
        timing["deadline_at"] = expression
    elif mode != "none":
        errors["deadline_mode"] = Message(N_("Choose how the deadline is set."))
    return timing


def _durations(text: str, name: str, errors: dict[str, Message]) -> list[str]:
    """Return the ISO durations of a comma-separated list, naming the input if one is bad."""
    found = []
    for part in text.replace("，", ",").split(","):
        if part.strip():
            try:
                found.append(to_iso(part))
            except ValueError:
                errors[name] = Message(N_("Write times such as 4h or 1d, separated by commas."))
    return found


def _escalation(posted: Mapping[str, Any], errors: dict[str, Message]) -> list[str]:
    """Return the escalation levels of the posted rows, in order of their delays."""
    levels = []
    for row in range(ESCALATION_ROWS):
        action = str(posted.get(f"esc_action_{row}", "")).strip()
        if not action:
            continue
        delay_text = str(posted.get(f"esc_delay_{row}", "")).strip() or "0"
        target = str(posted.get(f"esc_target_{row}", "")).strip()
        try:
            delay = "PT0S" if delay_text == "0" else to_iso(delay_text)
        except ValueError:
            errors[f"esc_delay_{row}"] = Message(N_("Write a time such as 2d, 4h or 1d 4h."))
            continue
        if action not in deadlines.ACTIONS or not target:
            errors[f"esc_target_{row}"] = Message(N_(
                "Say whom to notify or reassign to, or what the automatic completion enters."))
            continue
        levels.append((parse_duration(delay) if delay != "PT0S" else None, delay, action,
                       target))
    levels.sort(key=lambda level: (level[0].days, level[0].seconds) if level[0] else (0, 0))
    return [f"{delay} {action} {target}" for _, delay, action, target in levels]


def _apply_flow(root: Any, node: Any, posted: Mapping[str, Any], form_fields: list[str],
                errors: dict[str, Message]) -> None:
    """Set a sequence flow's condition, and whether it is its gateway's default."""
    condition = str(posted.get("condition", "")).strip()
    if condition:
        problem = check_condition(condition, form_fields)
        if problem is not None:
            errors["condition"] = problem
    existing = node.find("bpmn:conditionExpression", NS)
    if existing is not None:
        node.remove(existing)
    if condition:
        expression = etree.SubElement(node, f"{{{BPMN_NS}}}conditionExpression")
        expression.text = condition
        expression.set("{http://www.w3.org/2001/XMLSchema-instance}type", "bpmn:tFormalExpression")
    source = element(root, node.get("sourceRef", ""))
    if local(source) in GATEWAYS:
        if posted.get("default") == "on":
            source.set("default", node.get("id"))
        elif source.get("default") == node.get("id"):
            del source.attrib["default"]


def check_condition(condition: str, names: list[str]) -> Message | None:
    """Return what is wrong with a gateway condition (None when it is fine)."""
    try:
        expressions.check(condition, names)
    except expressions.ExpressionError as error:
        return error.message
    return None


def _set_name(node: Any, name: str) -> None:
    """Set (or remove) an element's English name."""
    if name.strip():
        node.set("name", name.strip())
    elif "name" in node.attrib:
        del node.attrib["name"]


def _set_property(node: Any, name: str, value: str) -> None:
    """Set one spiff:property of an element (an empty value removes it)."""
    extensions = node.find("bpmn:extensionElements", NS)
    if extensions is None:
        if not value:
            return
        extensions = etree.Element(f"{{{BPMN_NS}}}extensionElements")
        node.insert(0, extensions)
    holder = extensions.find("spiff:properties", NS)
    if holder is None:
        if not value:
            return
        holder = etree.SubElement(extensions, f"{{{SPIFF_NS}}}properties")
    found = [p for p in holder.findall("spiff:property", NS) if p.get("name") == name]
    for extra in found[1:]:
        holder.remove(extra)
    if not value:
        if found:
            holder.remove(found[0])
        return
    prop = found[0] if found else etree.SubElement(holder, f"{{{SPIFF_NS}}}property")
    prop.set("name", name)
    prop.set("value", value)
