"""The part of BPMN 2.0 that Andon runs, checked element by element before deploy.

Supported: start and end events (error and message end events too), timer
start events (inside subprocesses, and cycles on the main process), intermediate
timer and message catch events, intermediate message throw events, boundary
timers on human tasks and boundary messages on human tasks and subprocesses
(interrupting or not), boundary error events on subprocesses and call
activities, event-based gateways (see :mod:`andon.flows.subset_events`), user,
manual and script tasks, service tasks naming a connector (see
:mod:`andon.flows.connectors`), business rule tasks calling a DMN decision table
(see :mod:`andon.flows.decisions`), multi-instance user and service tasks over a
collection, exclusive, parallel and inclusive gateways, embedded subprocesses,
call activities calling a process in the same file, and lanes. Everything else
is refused with the element id. docs/bpmn.md has the full table.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from andon import expressions
from andon.flows import connectors, deadlines, owners, permissions, timers
from andon.flows import subset_events as events
from andon.flows.elements import NS, PROPERTY_PATH, Problems, local, properties, said, say, where
from andon.i18n import N_

HUMAN = ("userTask", "manualTask")
GATEWAYS = ("exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway")
STEP_KINDS = ("startEvent", "endEvent", "intermediateCatchEvent", "boundaryEvent", *HUMAN,
              "scriptTask", "serviceTask", "businessRuleTask", *GATEWAYS, "subProcess",
              "callActivity", "intermediateThrowEvent")
OTHER_CHILDREN = ("sequenceFlow", "laneSet", "documentation", "extensionElements",
                  "textAnnotation", "association", "incoming", "outgoing")
COMMON_INSIDE = ("incoming", "outgoing", "documentation", "extensionElements")
#: event definitions each kind of event may hold (at most one)
EVENTS = {"startEvent": ("timerEventDefinition",),
          "endEvent": ("errorEventDefinition", "messageEventDefinition"),
          "intermediateCatchEvent": ("timerEventDefinition", "messageEventDefinition"),
          "intermediateThrowEvent": ("messageEventDefinition",),
          "boundaryEvent": ("timerEventDefinition", "errorEventDefinition",
                            "messageEventDefinition")}
LOOKS_LIKE_TIME = re.compile(r"^\s*(R\d*/|P\d|PT\d|\d{4}-\d\d)", re.IGNORECASE)
OPERATOR_PATH = "bpmn:extensionElements/spiff:serviceTaskOperator"
DECISION_PATH = "bpmn:extensionElements/spiff:calledDecisionId"
LOOPING = ("userTask", "serviceTask")
IDENTIFIER = re.compile(r"^[A-Za-z_]\w*$")

def main_process(root: Any) -> tuple[Any | None, int]:
    """Return the one process no other process calls (or None) and how many there are."""
    processes = root.findall("bpmn:process", NS)
    called = {call.get("calledElement") for process in processes
              for call in process.iterfind(".//bpmn:callActivity", NS)
              if call.get("calledElement") != process.get("id")}
    mains = [p for p in processes if p.get("id") not in called]
    return (mains[0] if len(mains) == 1 else None), len(mains)


def containers(root: Any) -> Iterator[Any]:
    """Yield every process and embedded subprocess, outermost first."""
    for process in root.findall("bpmn:process", NS):
        yield process
        yield from process.iterfind(".//bpmn:subProcess", NS)


def flow_nodes(root: Any) -> Iterator[Any]:
    """Yield the supported flow nodes, container by container (main process first)."""
    for container in containers(root):
        yield from (child for child in container if local(child) in STEP_KINDS)


def lanes(root: Any) -> dict[str, str]:
    """Map node ids to the name of the lane that holds them."""
    found = {}
    for lane in root.iterfind(".//bpmn:lane", NS):
        for ref in lane.findall("bpmn:flowNodeRef", NS):
            found[(ref.text or "").strip()] = lane.get("name") or ""
    return found


def _problem(checker: Callable[[str], Any], element: Any, text: str) -> Problems:
    """Return the problem ``checker`` finds in an expression, if any."""
    try:
        checker(text)
    except expressions.ExpressionError as err:
        return [(where(element), said(err.message))]
    return []


def _check_container(container: Any, main: bool) -> Problems:
    """Refuse unknown children of a process or subprocess, and check each known one."""
    problems = []
    inside = local(container) == "subProcess"
    if inside and container.get("triggeredByEvent") == "true":
        return [(where(container), N_("An event subprocess is not supported"))]
    for child in container:
        kind = local(child)
        if kind in STEP_KINDS:
            problems += _check_node(child, main)
        elif kind in OTHER_CHILDREN or not kind:
            continue
        elif inside:
            problems.append((where(container), say(N_("%(kind)s in %(parent)s is not supported"),
                                                   {"kind": kind, "parent": "subProcess"})))
        else:
            problems.append((where(child), say(N_("%(kind)s is not supported"), {"kind": kind})))
    return problems


def _check_node(node: Any, main: bool) -> Problems:
    """Check what a flow node holds: event definitions, loops, properties."""
    kind, problems = local(node), []
    if any(p.get("name") is None or p.get("value") is None
           for p in node.iterfind(PROPERTY_PATH, NS)):
        problems.append((where(node), N_("A spiff:property needs a name and a value")))
    if kind == "subProcess":
        return problems  # its children are checked as a container
    allowed = COMMON_INSIDE + EVENTS.get(kind, ())
    allowed += ("multiInstanceLoopCharacteristics",) if kind in LOOPING else ()
    allowed += ("script",) if kind == "scriptTask" else ()
    refused = [local(e) for e in node if local(e) and local(e) not in allowed]
    problems += [(where(node), say(N_("%(kind)s in %(parent)s is not supported"),
                                   {"kind": inner, "parent": kind})) for inner in refused]
    definitions = [e for e in node if local(e).endswith("EventDefinition")]
    if len(definitions) > 1:
        problems.append((where(node), N_("An event may hold only one event definition")))
    if not refused and len(definitions) <= 1:
        problems += _check_event(node, definitions, main)
    loop = node.find("bpmn:multiInstanceLoopCharacteristics", NS)
    if kind in LOOPING and loop is not None:
        problems += _check_multi_instance(node, loop)
    return problems


def _check_event(node: Any, definitions: list[Any], main: bool) -> Problems:
    """Check timers, where boundary events sit, and the main process's start."""
    kind = local(node)
    if kind in ("intermediateCatchEvent", "boundaryEvent") and not definitions:
        return [(where(node), say(N_("A %(kind)s needs a timer, message or error definition"),
                                  {"kind": kind}))]
    if kind == "intermediateThrowEvent" and not definitions:
        return [(where(node), N_("An intermediate throw event must send a message"))]
    if kind == "startEvent" and definitions and main:
        problems = events.check_start_timer(node, definitions[0])
        return problems or _check_timer(node, definitions[0])
    if definitions and local(definitions[0]) == "messageEventDefinition":
        problems = events.check_message(node, definitions[0])
        if problems:
            return problems
    if kind == "boundaryEvent":
        problems = _check_boundary(node, local(definitions[0]))
        if problems:
            return problems
    if definitions and local(definitions[0]) == "timerEventDefinition":
        return _check_timer(node, definitions[0])
    return []


def _check_boundary(node: Any, definition: str) -> Problems:
    """Allow timers on human tasks and errors on subprocesses and call activities."""
    ref = node.get("attachedToRef")
    host = next((local(e) for e in node.getparent() if e.get("id") == ref), "")
    if definition == "timerEventDefinition" and host in HUMAN:
        return []
    if definition == "messageEventDefinition" and host in (*HUMAN, "subProcess"):
        return []
    if definition == "errorEventDefinition" and host in ("subProcess", "callActivity"):
        if node.get("cancelActivity") == "false":
            return [(where(node), N_("A boundary error event always interrupts"))]
        return []
    return [(where(node), N_("A boundary event must be a timer on a user or manual task, a "
                             "message on a user or manual task or a subprocess, or an error "
                             "on a subprocess or call activity"))]


def _check_timer(node: Any, definition: Any) -> Problems:
    """Check a timer holds one time expression, quoted if it is a literal."""
    times = [e for e in definition if local(e) in timers.KINDS]
    if len(times) != 1:
        return [(where(node), N_("A timer needs one timeDate, timeDuration or timeCycle"))]
    kind, text = local(times[0]), (times[0].text or "").strip()
    if kind == "timeCycle" and local(node) == "intermediateCatchEvent":
        return [(where(node), N_("An intermediate timer waits for a timeDate or timeDuration"))]
    try:
        value = expressions.evaluate(text, {})
    except expressions.ExpressionError as err:
        if LOOKS_LIKE_TIME.match(text):
            return [(where(node), say(N_("Write the time %(text)s in quotes: \"%(text)s\""),
                                      {"text": text}))]
        problems = _problem(expressions.check, node, text)
        return problems or ([] if "Unknown name" in str(err)
                            else [(where(node), said(err.message))])
    return _check_literal(node, kind, timers.as_text(value))


def _check_literal(node: Any, kind: str, value: Any) -> Problems:
    """Parse a literal time the way the timer will; a date needs a UTC offset."""
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        if kind == "timeDate":
            timers.parse_date(value)
        elif kind == "timeDuration":
            timers.after(value, timers.EPOCH)
        else:
            timers.parse_cycle(value, timers.EPOCH)
        naive = timers.missing_offset(kind, value)
    except Exception:  # Spiff's parsers raise bare Exception on a bad duration
        return [(where(node), say(N_("%(value)s is not a valid ISO 8601 %(kind)s"),
                                  {"value": repr(value), "kind": kind}))]
    if naive is not None:
        fix = naive + ("+08:00" if "T" in naive.upper() else "T00:00:00+08:00")
        return [(where(node), say(N_("The time %(value)s has no UTC offset, so it is unclear "
                                     "where it is meant; add one, e.g. \"%(fix)s\" for China"),
                                  {"value": naive, "fix": fix}))]
    return []


def _check_multi_instance(node: Any, loop: Any) -> Problems:
    """Require a collection and an item; a sequential loop also collects an output."""
    find = {local(e): e for e in loop}
    problems = []
    if "loopDataInputRef" not in find or not find.get("inputDataItem", loop).get("id"):
        problems.append((where(node), N_("A multi-instance task needs a loopDataInputRef and "
                                         "an inputDataItem with an id")))
    if "loopCardinality" in find:
        problems.append((where(node), N_("loopCardinality is not supported; loop over a "
                                         "collection with loopDataInputRef")))
    has_output = "loopDataOutputRef" in find and find.get("outputDataItem", loop).get("id")
    if loop.get("isSequential") == "true" and not has_output:
        problems.append((where(node), N_("A sequential multi-instance task needs a "
                                         "loopDataOutputRef and an outputDataItem with an id")))
    condition = find.get("completionCondition")
    if condition is not None and (condition.text or "").strip():
        problems += _problem(expressions.check, node, (condition.text or "").strip())
    return problems


def _check_human_task(task: Any, lanes_of: dict[str, str]) -> Problems:
    """Require an owner rule that parses, and a form on a user task."""
    props, here = properties(task), where(task)
    problems = []
    if local(task) == "userTask" and not props.get("form"):
        problems.append((here, N_("A user task needs a 'form' property")))
    for check in (lambda: owners.parse(props.get("owner"), lanes_of.get(task.get("id", ""))),
                  lambda: deadlines.parse_timing(props),
                  lambda: owners.parse_copies(props.get("cc"))):
        try:
            check()
        except ValueError as error:
            problems.append((here, error.args[0] if error.args and isinstance(
                error.args[0], str) else str(error)))
    return problems + permissions.overlaps(here, permissions.parse(props))


def _check_service(task: Any) -> Problems:
    """Require a known connector, its parameters, and parameter values that parse."""
    here, operator = where(task), task.find(OPERATOR_PATH, NS)
    if operator is None or not operator.get("id"):
        return [(here, N_("A service task needs a spiff:serviceTaskOperator whose id names "
                          "its connector"))]
    problems, params = [], {}
    for param in operator.iterfind("spiff:parameters/spiff:parameter", NS):
        if not param.get("id") or param.get("type") is None or param.get("value") is None:
            problems.append((here, N_("A spiff:parameter needs an id, a type and a value")))
        else:
            params[param.get("id")] = param.get("value")
    variable = operator.get("resultVariable")
    if variable and not IDENTIFIER.match(variable):
        problems.append((here, say(N_("The resultVariable %(name)s is not a valid name"),
                                   {"name": repr(variable)})))
    return problems + [(here, text) for text in connectors.problems(operator.get("id"), params)]


def called_decision(task: Any) -> str:
    """Return the DMN decision a business rule task calls, or ''."""
    return (task.findtext(DECISION_PATH, "", NS) or "").strip()


def _check_flows(container: Any) -> Problems:
    """Check conditions, and that a deciding gateway's other flows have one."""
    deciding = [g for g in container if local(g) in ("exclusiveGateway", "inclusiveGateway")]
    defaults = {g.get("default") for g in deciding}
    gateways = {g.get("id") for g in deciding}
    problems = []
    for flow in container.findall("bpmn:sequenceFlow", NS):
        condition = flow.find("bpmn:conditionExpression", NS)
        text = (condition.text or "").strip() if condition is not None else ""
        if text:
            problems += _problem(expressions.check, flow, text)
        elif flow.get("sourceRef") in gateways and flow.get("id") not in defaults:
            problems.append((where(flow), N_("A flow leaving an exclusive or inclusive gateway "
                                             "needs a condition unless it is the gateway's "
                                             "default (even when it is the only one)")))
    return problems


def _check_scripts(container: Any) -> Problems:
    """Check script tasks and spiff pre/post scripts are assignments only."""
    problems = []
    for element in container:
        is_script = local(element) == "scriptTask"
        texts = [element.findtext("bpmn:script", None, NS)] if is_script else []
        for name in ("preScript", "postScript"):
            texts.append(element.findtext(f"bpmn:extensionElements/spiff:{name}", None, NS))
        for text in filter(None, texts):
            problems += _problem(expressions.check_assignments, element, text)
    return problems


def bad_calls(root: Any, main: Any | None = None) -> Problems:
    """Require each call activity to call another process of the same file."""
    ids = {p.get("id") for p in root.findall("bpmn:process", NS)}
    ids -= {main.get("id")} if main is not None else set()
    return [(where(call), N_("A call activity must call another process in the same file"))
            for call in root.iterfind(".//bpmn:callActivity", NS)
            if call.get("calledElement") not in ids]


def check(root: Any, main: Any) -> Problems:
    """Collect every problem with the supported subset, in document order."""
    lanes_of = lanes(root)
    problems = []
    for container in containers(root):
        problems += _check_container(container, container is main)
    for task in flow_nodes(root):
        if local(task) in HUMAN:
            problems += _check_human_task(task, lanes_of)
        elif local(task) == "serviceTask":
            problems += _check_service(task)
        elif local(task) == "businessRuleTask" and not called_decision(task):
            problems.append((where(task), N_("A business rule task needs a "
                                             "spiff:calledDecisionId naming its DMN decision")))
    for container in containers(root):
        problems += _check_flows(container) + _check_scripts(container)
        problems += events.check_gateways(container)
    return problems + bad_calls(root, main)
