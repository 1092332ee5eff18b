"""Business rule tasks: a DMN table beside the flow, parsed safely, evaluated without eval."""

from __future__ import annotations

from pathlib import Path

import pytest

from andon.errors import InvalidDefinition
from andon.flows import runtime
from andon.flows.deploy import deploy_flow
from andon.loader import load_folder

DATA = Path(__file__).parent.parent / "data" / "decisions"
FLOW = DATA / "flows" / "routed_review.bpmn"
TABLE = DATA / "flows" / "review_level.dmn"
REQUEST = {"title": "Export", "project": "P", "reason": "R", "effort_days": "3",
           "customer_contact": "C"}


def deploy(session, table: bytes | None = None, name: str = "review_level.dmn") -> None:
    """Deploy the routed review with a DMN file (the shipped one unless given)."""
    files = {name: TABLE.read_bytes() if table is None else table}
    deploy_flow(session, FLOW.read_bytes(), FLOW.name, None, files)
    session.commit()


def reviewer(session, people, **changes) -> str:
    """Start the flow and return who the review went to."""
    instance = runtime.start_instance(session, "routed_review", people["engineer1"],
                                      {**REQUEST, **changes})
    session.commit()
    (task,) = [t for t in instance.tasks if t.state == "open"]
    return task.assignee.username


def test_the_decision_table_routes_the_review(session, people):
    deploy(session)
    assert reviewer(session, people, effort_days="3") == "pm"
    assert reviewer(session, people, effort_days="8") == "director"
    assert reviewer(session, people, effort_days="1", project="Apollo") == "director"


def test_the_loader_deploys_a_flow_with_the_table_beside_it(session, people):
    [loaded] = load_folder(session, DATA)
    assert loaded.error is None and loaded.key == "routed_review"
    session.commit()
    assert reviewer(session, people, effort_days="9") == "director"


def test_a_missing_table_names_the_task_and_the_file(session, people):
    with pytest.raises(InvalidDefinition) as refused:
        deploy(session, name="other.dmn")
    assert refused.value.problems == [(
        "routed_review.bpmn: route",
        "Calls the decision review_level: put it in review_level.dmn beside the flow")]


def test_a_cell_outside_the_safe_language_names_the_cell(session, people):
    table = TABLE.read_text().replace('<text>"pm"</text>', "<text>().__class__</text>")
    with pytest.raises(InvalidDefinition) as refused:
        deploy(session, table.encode())
    [(where, what)] = refused.value.problems
    assert where == "review_level.dmn: small_reviewer" and "attribute access" in what


def test_an_input_entry_with_an_import_is_refused(session, people):
    table = TABLE.read_text().replace("&lt; 5", "__import__('os')")
    with pytest.raises(InvalidDefinition) as refused:
        deploy(session, table.encode())
    [(where, what)] = refused.value.problems
    assert where == "review_level.dmn: small_effort" and "__import__" in what


def test_a_dmn_file_is_parsed_as_safely_as_bpmn(session, people):
    table = TABLE.read_text().replace(
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa">]>')
    with pytest.raises(InvalidDefinition) as refused:
        deploy(session, table.encode())
    assert refused.value.problems == [("review_level.dmn: line 1", "A DOCTYPE is not allowed")]


def test_an_unsupported_hit_policy_is_named(session, people):
    table = TABLE.read_text().replace('hitPolicy="UNIQUE"', 'hitPolicy="PRIORITY"')
    with pytest.raises(InvalidDefinition) as refused:
        deploy(session, table.encode())
    assert refused.value.problems == [("review_level.dmn: review_level_table",
                                       "The hit policy must be UNIQUE or COLLECT")]
