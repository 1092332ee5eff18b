"""Load an uploaded BPMN 2.0 file safely and check it fits what Andon can run.

The XML is parsed by a hardened lxml parser (no DTD, no entities, no network)
and a DOCTYPE is refused outright. The document must then use only the
supported subset: start and end events, user, manual and script tasks,
exclusive and parallel gateways, sequence flows and lanes. Each problem is
reported with the file name and the element id or line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser import SpiffBpmnParser

from andon import expressions
from andon.errors import InvalidDefinition
from andon.flows import deadlines, owners
from andon.flows.engine import spec_to_json
from andon.i18n import N_

MAX_BYTES = 2 * 1024 * 1024
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN_NS, "spiff": SPIFF_NS}
STEP_KINDS = ("startEvent", "endEvent", "userTask", "manualTask", "scriptTask",
              "exclusiveGateway", "parallelGateway")
OTHER_CHILDREN = ("sequenceFlow", "laneSet", "documentation", "extensionElements",
                  "textAnnotation", "association")
REFUSED_INSIDE = ("EventDefinition", "LoopCharacteristics")

Problems = list[tuple[str, str]]


@dataclass(frozen=True)
class StepInfo:
    """One node of a flow: its id, name, lane, BPMN kind and spiff:properties."""

    id: str
    name: str
    lane: str | None
    kind: str
    properties: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ParsedFlow:
    """A checked BPMN process, ready to be stored as a flow version."""

    process_id: str
    name: str
    steps: list[StepInfo]
    spec_json: str
    properties: dict[str, str] = field(default_factory=dict)


def _invalid(filename: str, where: str, message: str) -> InvalidDefinition:
    """Build the error for a single problem at ``where``."""
    return InvalidDefinition(N_("The BPMN file %(file)s is not valid"), file=filename,
                             problems=[(f"{filename}: {where}", message)])


def _parse_xml(xml: bytes, filename: str) -> Any:
    """Parse bytes with a hardened parser; refuse oversize files and any DOCTYPE."""
    if len(xml) > MAX_BYTES:
        raise _invalid(filename, "line 1", N_("The file is larger than %(limit)d bytes")
                       % {"limit": MAX_BYTES})
    for encoding in ("utf-8", "utf-16-le", "utf-16-be"):
        at = xml.find("<!DOCTYPE".encode(encoding))
        if at >= 0:
            line = xml[:at].count("\n".encode(encoding)) + 1
            raise _invalid(filename, f"line {line}", N_("A DOCTYPE is not allowed"))
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                             huge_tree=False, remove_comments=True, remove_pis=True)
    try:
        root = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as err:
        raise _invalid(filename, f"line {err.lineno or 1}", str(err.msg)) from None
    if root.getroottree().docinfo.doctype:
        raise _invalid(filename, "line 1", N_("A DOCTYPE is not allowed"))
    if root.tag != f"{{{BPMN_NS}}}definitions":
        raise _invalid(filename, f"line {root.sourceline}",
                       N_("The root element must be bpmn:definitions"))
    return root


def _local(element: Any) -> str:
    """Return the tag of ``element`` without its namespace."""
    return str(etree.QName(element).localname) if isinstance(element.tag, str) else ""


def _process(root: Any, filename: str) -> Any:
    """Return the single bpmn:process of the document."""
    processes = root.findall("bpmn:process", NS)
    if len(processes) != 1:
        raise _invalid(filename, "line 1", N_("The file must contain exactly one process, "
                                              "found %(count)d") % {"count": len(processes)})
    return processes[0]


def _properties(element: Any) -> dict[str, str]:
    """Return the spiff:properties of an element as a dict."""
    path = "bpmn:extensionElements/spiff:properties/spiff:property"
    return {p.get("name", ""): p.get("value", "") for p in element.findall(path, NS)}


def _lanes(process: Any) -> dict[str, str]:
    """Map node ids to the name of the lane that holds them."""
    lanes = {}
    for lane in process.iterfind(".//bpmn:lane", NS):
        for ref in lane.findall("bpmn:flowNodeRef", NS):
            lanes[(ref.text or "").strip()] = lane.get("name") or ""
    return lanes


def _where(element: Any) -> str:
    """Name an element by id, or by line if it has none."""
    return element.get("id") or f"line {element.sourceline}"


def _check_structure(process: Any) -> Problems:
    """Refuse elements outside the supported subset."""
    problems = []
    for child in process:
        kind = _local(child)
        if kind not in STEP_KINDS + OTHER_CHILDREN:
            problems.append((_where(child), N_("%(kind)s is not supported") % {"kind": kind}))
            continue
        path = "bpmn:extensionElements/spiff:properties/spiff:property"
        if any(p.get("name") is None or p.get("value") is None for p in child.iterfind(path, NS)):
            problems.append((_where(child), N_("A spiff:property needs a name and a value")))
        for inner in child:
            if _local(inner).endswith(REFUSED_INSIDE):
                problems.append((_where(child), N_("%(kind)s in %(parent)s is not supported")
                                 % {"kind": _local(inner), "parent": kind}))
    return problems


def _check_human_task(task: Any, lanes: dict[str, str]) -> Problems:
    """Require an owner rule that parses, and a form on a user task."""
    props, where = _properties(task), _where(task)
    problems = []
    if _local(task) == "userTask" and not props.get("form"):
        problems.append((where, N_("A user task needs a 'form' property")))
    for check in (lambda: owners.parse(props.get("owner"), lanes.get(task.get("id", ""))),
                  lambda: deadlines.parse_timing(props)):
        try:
            check()
        except ValueError as error:
            problems.append((where, str(error)))
    return problems


def _expression_problem(where: str, text: str, checker: Any) -> Problems:
    """Return the problem ``checker`` finds in ``text``, if any."""
    try:
        checker(text)
    except expressions.ExpressionError as err:
        return [(where, str(err))]
    return []


def _check_flows(process: Any) -> Problems:
    """Check conditions, and that an exclusive gateway's other flows have one."""
    defaults = {g.get("default") for g in process.findall("bpmn:exclusiveGateway", NS)}
    gateways = {g.get("id") for g in process.findall("bpmn:exclusiveGateway", NS)}
    problems = []
    for flow in process.findall("bpmn:sequenceFlow", NS):
        condition = flow.find("bpmn:conditionExpression", NS)
        text = (condition.text or "").strip() if condition is not None else ""
        if text:
            problems += _expression_problem(_where(flow), text, expressions.check)
        elif flow.get("sourceRef") in gateways and flow.get("id") not in defaults:
            problems.append((_where(flow), N_("A flow leaving an exclusive gateway needs a "
                                              "condition unless it is the default")))
    return problems


def _check_scripts(process: Any) -> Problems:
    """Check script tasks and spiff pre/post scripts are assignments only."""
    problems = []
    for element in process:
        is_script = _local(element) == "scriptTask"
        texts = [element.findtext("bpmn:script", None, NS)] if is_script else []
        for name in ("preScript", "postScript"):
            texts.append(element.findtext(f"bpmn:extensionElements/spiff:{name}", None, NS))
        for text in filter(None, texts):
            problems += _expression_problem(_where(element), text,
                                            expressions.check_assignments)
    return problems


def _check_subset(process: Any) -> Problems:
    """Collect every problem with the supported subset."""
    lanes = _lanes(process)
    problems = _check_structure(process)
    for task in [*process.findall("bpmn:userTask", NS), *process.findall("bpmn:manualTask", NS)]:
        problems += _check_human_task(task, lanes)
    return problems + _check_flows(process) + _check_scripts(process)


def _spiff_parse(root: Any, process_id: str, filename: str) -> tuple[Any, dict[str, Any]]:
    """Build SpiffWorkflow specs, turning its errors into InvalidDefinition."""
    parser = SpiffBpmnParser()
    try:
        parser.add_bpmn_xml(root, filename)
        return parser.get_spec(process_id), parser.get_subprocess_specs(process_id)
    except SpiffWorkflowException as err:
        where = getattr(err, "id", "") or f"line {getattr(err, 'line_number', '') or 1}"
        raise _invalid(filename, where, str(err).splitlines()[0]) from None


def _steps(spec: Any, process: Any) -> list[StepInfo]:
    """Describe the flow nodes in document order."""
    steps = []
    for element in process:
        if _local(element) in STEP_KINDS:
            task = spec.task_specs[element.get("id")]
            props = dict((getattr(task, "extensions", None) or {}).get("properties", {}))
            steps.append(StepInfo(task.bpmn_id, task.bpmn_name or task.bpmn_id, task.lane,
                                  _local(element), props))
    return steps


def load_bpmn(xml: bytes, filename: str) -> ParsedFlow:
    """Parse and check a BPMN file; return what a flow version stores."""
    root = _parse_xml(xml, filename)
    process = _process(root, filename)
    problems = _check_subset(process)
    if problems:
        raise InvalidDefinition(N_("The BPMN file %(file)s is not valid"), file=filename,
                                problems=[(f"{filename}: {w}", m) for w, m in problems])
    process_id = process.get("id")
    spec, subprocesses = _spiff_parse(root, process_id, filename)
    name = process.get("name") or process_id
    return ParsedFlow(process_id, name, _steps(spec, process), spec_to_json(spec, subprocesses),
                      _properties(process))
