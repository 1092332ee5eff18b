"""Checks of how a flow is drawn: connections, gateway defaults, the names conditions use.

These rules read the checked XML document and need no database; deploying
refuses a flow with one of their errors and the designer's validation
(:mod:`andon.flows.lint`) lists them with the warnings, each pinned to its
element. Which names a condition may use: the fields of the forms the flow's
steps use (passed in by the caller, who reads the published forms) and the
names the flow itself sets — script assignments, a service task's result
variable, a multi-instance loop's items and output, a message's variable and
a DMN decision's outputs.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from lxml import etree

from andon import expressions
from andon.flows import subset
from andon.flows.elements import NS, local
from andon.i18n import N_, Message

ERROR, WARNING = "error", "warning"
DECIDING = ("exclusiveGateway", "inclusiveGateway")
#: kinds that start a path (no incoming flow) and kinds that end one (no outgoing flow)
STARTS = ("startEvent", "boundaryEvent")
ENDS = ("endEvent",)


@dataclass(frozen=True)
class Finding:
    """One problem of a flow diagram, pinned to its element when it has one."""

    element_id: str | None
    severity: str  # "error" blocks publishing, "warning" does not
    message: Message


def drawing(root: Any) -> list[Finding]:
    """Return the connection errors and the gateway warnings of every process."""
    found: list[Finding] = []
    for container in subset.containers(root):
        found += _connections(container) + _defaults(container)
    return found


def _connections(container: Any) -> list[Finding]:
    """Report flow nodes that nothing leads to or that lead nowhere, and dangling flows."""
    nodes = {child.get("id"): local(child) for child in container
             if local(child) in subset.STEP_KINDS}
    flows = container.findall("bpmn:sequenceFlow", NS)
    sources = {flow.get("sourceRef") for flow in flows}
    targets = {flow.get("targetRef") for flow in flows}
    found = [Finding(flow.get("id"), ERROR, Message(N_(
                "This flow must join two elements of the same process or subprocess")))
             for flow in flows
             if flow.get("sourceRef") not in nodes or flow.get("targetRef") not in nodes]
    for node_id, kind in nodes.items():
        if kind not in STARTS and node_id not in targets:
            found.append(Finding(node_id, ERROR, Message(N_(
                "Nothing leads to this element: connect a flow into it"))))
        if kind not in ENDS and node_id not in sources:
            found.append(Finding(node_id, ERROR, Message(N_(
                "This element leads nowhere: connect a flow from it to the next step or "
                "to an end event"))))
    return found


def _defaults(container: Any) -> list[Finding]:
    """Warn about a deciding gateway with several ways out and no default flow."""
    found = []
    for gateway in container:
        if local(gateway) not in DECIDING or gateway.get("default"):
            continue
        ways = [f for f in container.findall("bpmn:sequenceFlow", NS)
                if f.get("sourceRef") == gateway.get("id")]
        if len(ways) > 1:
            found.append(Finding(gateway.get("id"), WARNING, Message(N_(
                "This gateway has no default flow: when no condition is true the flow "
                "stops with an error. Mark one outgoing flow as the default"))))
    return found


def conditions(root: Any, known: Iterable[str]) -> list[Finding]:
    """Report each condition that names something no form field or step provides."""
    names = frozenset(known)
    found = []
    for flow in root.iterfind(".//bpmn:sequenceFlow", NS):
        text = (flow.findtext("bpmn:conditionExpression", "", NS) or "").strip()
        if not text:
            continue
        try:
            expressions.check(text, names)
        except expressions.ExpressionError as err:
            if err.message.msgid != expressions.UNKNOWN_NAME:
                continue  # a condition that does not parse is the subset's error already
            found.append(Finding(flow.get("id"), ERROR, Message(N_(
                "The condition uses %(name)s, which is no field of this flow's forms and "
                "is not set by any of its steps"), {"name": err.message.params.get("name")})))
    return found


def set_by_steps(root: Any, tables: Mapping[str, str] | None = None) -> set[str]:
    """Return the data names the flow's own steps set (scripts, services, loops, messages, DMN)."""
    names: set[str] = set()
    for element in root.iter():
        kind = local(element)
        if kind in ("script", "preScript", "postScript"):
            names |= _assigned(element.text or "")
        elif kind == "serviceTaskOperator" and element.get("resultVariable"):
            names.add(element.get("resultVariable"))
        elif kind in ("loopDataOutputRef", "loopDataInputRef", "messageVariable"):
            names.add((element.text or "").strip())
        elif kind in ("inputDataItem", "outputDataItem"):
            names |= {element.get("id") or "", element.get("name") or ""}
    for text in (tables or {}).values():
        names |= _outputs(text)
    return {name for name in names if name}


def _assigned(script: str) -> set[str]:
    """Return the names a script's ``name = expression`` lines assign (parsed, never run)."""
    try:
        tree = ast.parse(script)
    except (SyntaxError, ValueError):
        return set()
    return {target.id for node in ast.walk(tree) if isinstance(node, ast.Assign)
            for target in node.targets if isinstance(target, ast.Name)}


def _outputs(dmn: str) -> set[str]:
    """Return the output names of a DMN decision table (the first part of a dotted name)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(dmn.encode(), parser)
    except etree.XMLSyntaxError:
        return set()
    return {(output.get("name") or "").split(".")[0] for output in root.iter()
            if local(output) == "output"}
