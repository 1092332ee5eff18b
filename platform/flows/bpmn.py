"""Load an uploaded BPMN 2.0 file safely and check it fits what Andon can run.

The XML is parsed by a hardened lxml parser (no DTD, no entities, no network)
and a DOCTYPE is refused outright. The document must then use only the
supported subset (see :mod:`andon.flows.subset` and docs/bpmn.md). Each
problem is reported with the file name and the element id or line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser import SpiffBpmnParser

from andon.errors import InvalidDefinition
from andon.flows import subset
from andon.flows.engine import spec_to_json
from andon.i18n import N_

MAX_BYTES = 2 * 1024 * 1024
BPMN_NS = subset.BPMN_NS
STEP_KINDS = subset.STEP_KINDS


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


def _main_process(root: Any, filename: str) -> Any:
    """Return the process the file runs: the one no call activity calls."""
    main, count = subset.main_process(root)
    problems = subset.bad_calls(root) if main is None else []
    if problems:
        raise InvalidDefinition(N_("The BPMN file %(file)s is not valid"), file=filename,
                                problems=[(f"{filename}: {w}", m) for w, m in problems])
    if main is None:
        raise _invalid(filename, "line 1", N_("The file must contain exactly one main process "
                                              "(one no call activity calls), found %(count)d")
                       % {"count": count})
    return main


def _spiff_parse(root: Any, process_id: str, filename: str) -> tuple[Any, dict[str, Any]]:
    """Build SpiffWorkflow specs, turning its errors into InvalidDefinition."""
    parser = SpiffBpmnParser()
    try:
        parser.add_bpmn_xml(root, filename)
        return parser.get_spec(process_id), parser.get_subprocess_specs(process_id)
    except SpiffWorkflowException as err:
        where = getattr(err, "id", "") or f"line {getattr(err, 'line_number', '') or 1}"
        raise _invalid(filename, where, str(err).splitlines()[0]) from None


def _steps(root: Any, specs: list[Any]) -> list[StepInfo]:
    """Describe the flow nodes of every process and subprocess, in document order."""
    by_id = {}
    for spec in reversed(specs):
        by_id.update({task.bpmn_id: task for task in spec.task_specs.values() if task.bpmn_id})
    steps = []
    for element in subset.flow_nodes(root):
        task = by_id.get(element.get("id"))
        if task is not None:
            steps.append(StepInfo(task.bpmn_id, task.bpmn_name or task.bpmn_id, task.lane,
                                  subset.local(element), subset.properties(element)))
    return steps


def load_bpmn(xml: bytes, filename: str) -> ParsedFlow:
    """Parse and check a BPMN file; return what a flow version stores."""
    root = _parse_xml(xml, filename)
    process = _main_process(root, filename)
    problems = subset.check(root, process)
    if problems:
        raise InvalidDefinition(N_("The BPMN file %(file)s is not valid"), file=filename,
                                problems=[(f"{filename}: {w}", m) for w, m in problems])
    process_id = process.get("id")
    spec, subprocesses = _spiff_parse(root, process_id, filename)
    name = process.get("name") or process_id
    steps = _steps(root, [spec, *subprocesses.values()])
    return ParsedFlow(process_id, name, steps, spec_to_json(spec, subprocesses),
                      subset.properties(process))
