"""Load an uploaded BPMN 2.0 file safely and check it fits what Andon can run.

The XML is parsed by a hardened lxml parser (no DTD, no entities, no network)
and a DOCTYPE is refused outright. The document must then use only the
supported subset (see :mod:`andon.flows.subset` and docs/bpmn.md). Each
problem is reported with the file name and the element id or line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser import SpiffBpmnParser

from andon.errors import InvalidDefinition
from andon.flows import decisions, elements, subset
from andon.flows.engine import detach_start_timer, spec_to_json
from andon.i18n import N_

MAX_BYTES = 2 * 1024 * 1024
BPMN_NS = elements.BPMN_NS
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
    decisions: dict[str, str] = field(default_factory=dict)  # DMN file name: text
    start_cycle: str | None = None
    #: the checked XML document, for the checks that read elements (see :mod:`andon.flows.design`)
    root: Any = field(default=None, compare=False, repr=False)


def _invalid(filename: str, where: str, message: str) -> InvalidDefinition:
    """Build the error for a single problem at ``where``."""
    return InvalidDefinition(N_("The BPMN file %(file)s is not valid"), file=filename,
                             problems=[(f"{filename}: {where}", message)])


def parse_xml(xml: bytes, filename: str, dmn: bool = False) -> Any:
    """Parse bytes with a hardened parser; refuse oversize files and any DOCTYPE."""
    if len(xml) > MAX_BYTES:
        raise _invalid(filename, "line 1", elements.say(
            N_("The file is larger than %(limit)d bytes"), {"limit": MAX_BYTES}))
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
    if dmn and not decisions.is_dmn(root):
        raise _invalid(filename, f"line {root.sourceline}",
                       N_("The root element must be DMN 1.2 or 1.3 definitions"))
    if not dmn and root.tag != f"{{{BPMN_NS}}}definitions":
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
        raise _invalid(filename, "line 1", elements.say(
            N_("The file must contain exactly one main process (one no call activity calls), "
               "found %(count)d"), {"count": count}))
    return main


def _decision_tables(root: Any, files: Mapping[str, bytes], filename: str) -> dict[str, Any]:
    """Parse and check the DMN file (``<decision id>.dmn``) each business rule task calls."""
    tables: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    for task in root.iterfind(".//bpmn:businessRuleTask", elements.NS):
        key = subset.called_decision(task)
        name = f"{key}.dmn"
        if name in tables or not key:
            continue
        if name not in files:
            problems.append((f"{filename}: {elements.where(task)}",
                             elements.say(N_("Calls the decision %(key)s: put it in %(file)s "
                                             "beside the flow"), {"key": key, "file": name})))
            continue
        tables[name] = parse_xml(files[name], name, dmn=True)
        if decisions.decision_id(tables[name]) != key:
            problems.append((f"{name}: line 1", elements.say(
                N_("The file must hold the decision %(key)s"), {"key": key})))
        problems += [(f"{name}: {where}", what) for where, what in decisions.check(tables[name])]
    if problems:
        raise InvalidDefinition(N_("The BPMN file %(file)s is not valid"), file=filename,
                                problems=problems)
    return tables


def _spiff_parse(root: Any, process_id: str, filename: str,
                 tables: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
    """Build SpiffWorkflow specs, turning its errors into InvalidDefinition."""
    parser = SpiffBpmnParser()
    try:
        for name, table in tables.items():
            parser.add_dmn_xml(table, name)
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
                                  elements.local(element), elements.properties(element)))
    return steps


def load_bpmn(xml: bytes, filename: str,
              dmn_files: Mapping[str, bytes] | None = None) -> ParsedFlow:
    """Parse and check a BPMN file and the DMN files it calls; return what a version stores."""
    root = parse_xml(xml, filename)
    process = _main_process(root, filename)
    problems = subset.check(root, process)
    if problems:
        raise InvalidDefinition(N_("The BPMN file %(file)s is not valid"), file=filename,
                                problems=[(f"{filename}: {w}", m) for w, m in problems])
    process_id = process.get("id")
    tables = _decision_tables(root, dmn_files or {}, filename)
    spec, subprocesses = _spiff_parse(root, process_id, filename, tables)
    start_cycle = detach_start_timer(spec)
    name = process.get("name") or process_id
    steps = _steps(root, [spec, *subprocesses.values()])
    return ParsedFlow(process_id, name, steps, spec_to_json(spec, subprocesses),
                      elements.properties(process),
                      {name: (dmn_files or {})[name].decode() for name in tables}, start_cycle,
                      root)
