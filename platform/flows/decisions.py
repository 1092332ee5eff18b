"""DMN decision tables for business rule tasks, checked before a flow is deployed.

A ``businessRuleTask`` names its decision with SpiffArena's extension
``<spiff:calledDecisionId>route</spiff:calledDecisionId>``; the decision lives
in a ``.dmn`` file beside the BPMN file (one decision per file, as SpiffWorkflow
3.2 reads it). SpiffWorkflow evaluates every cell through the flow's script
engine, i.e. Andon's safe expressions: an input expression (``effort_days``),
input entries that are a value (``"high"``), a comparison to complete
(``< 5``), an expression with ``?`` for the input (``2 < ? < 6``) or ``-`` for
any, and output entries that are expressions. Hit policies: UNIQUE (the first
matching rule) and COLLECT (every matching rule, outputs as lists).
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from andon import expressions
from andon.flows.elements import Problems, local, where
from andon.i18n import N_

NAMESPACES = ("https://www.omg.org/spec/DMN/20191111/MODEL/",
              "http://www.omg.org/spec/DMN/20180521/MODEL/")
HIT_POLICIES = ("UNIQUE", "COLLECT")

def _children(element: Any, name: str) -> list[Any]:
    """Return the children of ``element`` with a local name."""
    return [child for child in element if local(child) == name]


def _text(element: Any) -> str:
    """Return the text of an element's ``text`` child, stripped."""
    found = _children(element, "text")
    return (found[0].text or "").strip() if found else ""


def is_dmn(root: Any) -> bool:
    """Tell whether a parsed root is a DMN definitions element of a version Spiff reads."""
    return bool(etree.QName(root).namespace in NAMESPACES and local(root) == "definitions")


def decision_id(root: Any) -> str | None:
    """Return the id of the one decision a DMN file holds."""
    decisions = root.findall(".//{*}decision")
    return decisions[0].get("id") if decisions else None


def check(root: Any) -> Problems:
    """Collect every problem with a DMN file: its shape, and each cell's expression."""
    found = root.findall(".//{*}decision")
    if len(found) != 1 or not found[0].get("id"):
        return [(where(root), N_("A DMN file must hold exactly one decision with an id"))]
    tables = _children(found[0], "decisionTable")
    if len(tables) != 1 or not tables[0].get("id"):
        return [(where(found[0]), N_("A decision needs one decisionTable with an id"))]
    return _check_table(tables[0])


def _check_table(table: Any) -> Problems:
    """Check the hit policy, the inputs, and each rule's cells."""
    problems: Problems = []
    if table.get("hitPolicy", "UNIQUE").upper() not in HIT_POLICIES:
        problems.append((where(table), N_("The hit policy must be UNIQUE or COLLECT")))
    inputs, outputs = _children(table, "input"), _children(table, "output")
    for element in inputs:
        expression = _children(element, "inputExpression")
        text = _text(expression[0]) if expression else ""
        if not element.get("id") or not text:
            problems.append((where(element), N_("An input needs an id and an input expression")))
        else:
            problems += _checked(element, text, expressions.check)
    for element in outputs:
        if not element.get("id") or not element.get("name"):
            problems.append((where(element), N_("An output needs an id and a name")))
    for rule in _children(table, "rule"):
        problems += _check_rule(rule, len(inputs), len(outputs))
    return problems


def _check_rule(rule: Any, inputs: int, outputs: int) -> Problems:
    """Check a rule has one cell per column and that each cell parses."""
    ins, outs = _children(rule, "inputEntry"), _children(rule, "outputEntry")
    if not rule.get("id") or len(ins) != inputs or len(outs) != outputs or not all(
            cell.get("id") for cell in ins + outs):
        return [(where(rule), N_("A rule needs an id and one cell with an id per input and "
                                  "output"))]
    problems: Problems = []
    for cell in ins:
        text = _text(cell)
        if text and text != "-":
            problems += _checked(cell, text, _check_entry)
    for cell in outs:
        if _text(cell):
            problems += _checked(cell, _text(cell), expressions.check)
    return problems


def _check_entry(text: str) -> None:
    """Check an input entry as SpiffWorkflow completes it: a value, ``< 5`` or ``? < 5``."""
    if "?" in text:
        expressions.check(text.replace("?", "dmninputexpr"))
        return
    try:
        expressions.check(text)
    except expressions.ExpressionError:
        expressions.check(f"v {text}")


def _checked(element: Any, text: str, checker: Any) -> Problems:
    """Return the problem ``checker`` finds in a cell, naming the cell."""
    try:
        checker(text)
    except expressions.ExpressionError as error:
        return [(where(element), f"{text!r}: {error}")]
    return []
