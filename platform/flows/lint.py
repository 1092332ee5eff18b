"""Validate a flow diagram for the designer: every error and warning, pinned to its element.

:func:`findings` never raises on a bad diagram. It runs the same checks as
deploying (:func:`andon.flows.bpmn.load_bpmn` for the XML and the supported
subset, :func:`andon.flows.deploy.review` for the database and the drawing),
so publishing refuses exactly when a finding is an error; warnings do not
block. A problem without an element (malformed XML, a DOCTYPE, a file too
big) has ``element_id`` None and names its line in the message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from andon.errors import InvalidDefinition
from andon.flows import design, subset
from andon.flows.bpmn import ParsedFlow, StepInfo, load_bpmn, parse_xml
from andon.flows.deploy import review
from andon.flows.design import ERROR, WARNING, Finding
from andon.flows.elements import local, message_of, properties
from andon.i18n import N_, Message, in_every_locale

__all__ = ["ERROR", "WARNING", "Finding", "findings"]

LINE = re.compile(r"^line (\d+)$")


def findings(session: Session, xml: bytes, filename: str,
             dmn_files: Mapping[str, bytes] | None = None) -> list[Finding]:
    """Return every problem of a BPMN diagram (errors first); never raise on bad input."""
    try:
        root = parse_xml(xml, filename)
    except InvalidDefinition as error:
        return _unpinned(error, filename)
    try:
        parsed = load_bpmn(xml, filename, dmn_files)
    except InvalidDefinition as error:
        sketch = _sketch(root)
        found = _unpinned(error, filename) + (
            review(session, sketch)[1] if sketch is not None else design.drawing(root))
    except Exception as error:  # an engine surprise on odd input: report it, never raise
        found = [Finding(None, ERROR, Message(N_("The diagram could not be read: %(error)s"),
                                              {"error": str(error).splitlines()[0][:200]}))]
        found += design.drawing(root)
    else:
        found = review(session, parsed)[1]
    return _ordered(found)


def _sketch(root: Any) -> ParsedFlow | None:
    """Read the steps straight from the XML when SpiffWorkflow cannot parse it, to check on.

    The database checks (owners, forms, permissions) then still report their
    problems alongside the subset's; there is no spec, so nothing runs.
    """
    main, _ = subset.main_process(root)
    if main is None:
        return None
    lanes = subset.lanes(root)
    steps = [StepInfo(node.get("id"), node.get("name") or node.get("id"), lanes.get(node.get("id")),
                      local(node), properties(node))
             for node in subset.flow_nodes(root) if node.get("id")]
    return ParsedFlow(main.get("id") or "", main.get("name") or "", steps, "", properties(main),
                      root=root)


def _unpinned(error: InvalidDefinition, filename: str) -> list[Finding]:
    """Turn a refusal's ``(file: where, text)`` problems into error findings.

    A problem at a line (or in a DMN file) is wrapped in a message naming the
    place; its own text is then given in every UI language (a {en, zh-CN} parameter).
    """
    if not error.problems:
        return [Finding(None, ERROR, error.message)]
    found = []
    for location, text in error.problems:
        file, _, where = location.partition(": ")
        line, message = LINE.match(where), message_of(text)
        if file != filename:
            found.append(Finding(None, ERROR, Message(N_("In %(file)s, %(where)s: %(problem)s"), {
                "file": file, "where": where, "problem": in_every_locale(message)})))
        elif line:
            found.append(Finding(None, ERROR, Message(N_("Line %(line)s: %(problem)s"), {
                "line": line[1], "problem": in_every_locale(message)})))
        else:
            found.append(Finding(where or None, ERROR, message))
    return found


def _ordered(found: list[Finding]) -> list[Finding]:
    """Drop repeats and put errors before warnings, keeping document order within each."""
    seen, unique = set(), []
    for finding in found:
        key = (finding.element_id, finding.severity, finding.message.msgid,
               repr(sorted(finding.message.params.items())))
        if key not in seen:
            seen.add(key)
            unique.append(finding)
    return [f for f in unique if f.severity == ERROR] + \
        [f for f in unique if f.severity != ERROR]
