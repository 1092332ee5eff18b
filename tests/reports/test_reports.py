"""Report definitions: checking, compiling, running on both databases, access."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from andon.errors import Forbidden, InvalidDefinition
from andon.flows import runtime
from andon.flows.models import Task
from andon.reports.compiler import compile_report, formula, run_report
from andon.reports.definition import check_definition
from andon.reports.store import readable, report

SHIPPED = json.loads(Path("definitions/reports/open_tasks_by_step.json").read_text())
REQUEST = {"title": "T", "project": "P", "reason": "R", "effort_days": "20",
           "customer_contact": "C"}


def broken(**changes) -> dict:
    """Return the shipped definition with some parts replaced."""
    body = copy.deepcopy(SHIPPED)
    body.update(changes)
    return body


@pytest.mark.parametrize(("body", "where"), [
    (broken(dataset="salaries"), "$.dataset"),
    (broken(group_by=["flow", "colour"]), "$.group_by[1]"),
    (broken(filters=[{"field": "state", "op": "like", "value": "x"}]), "$.filters[0].op"),
    (broken(measures=[{"key": "n", "agg": "sum", "label": {"en": "n", "zh-CN": "n"}}]),
     "$.measures[0].field"),
    (broken(sort=[{"key": "nope"}]), "$.sort[0].key"),
    (broken(sql="DROP TABLE task"), "$"),
    (broken(limit=10**9), "$.limit"),
])
def test_bad_definitions_name_the_json_path(body, where):
    with pytest.raises(InvalidDefinition) as caught:
        check_definition(body, "r.json")
    assert any(place == f"r.json: {where}" for place, _ in caught.value.problems), \
        caught.value.problems


def test_filter_values_are_bound_never_pasted_into_sql():
    body = broken(filters=[{"field": "step_id", "op": "eq",
                            "value": "open'; DROP TABLE task; --"}])
    query, _ = compile_report(check_definition(body, "r.json"))
    compiled = query.compile()
    assert "DROP TABLE" not in str(compiled)
    assert "open'; DROP TABLE task; --" in compiled.params.values()


def test_open_tasks_by_step_counts_what_waits(session, people):
    for effort in ("20", "20", "4"):
        runtime.start_instance(session, "change_request", people["engineer1"],
                               {**REQUEST, "effort_days": effort})
    first = session.query(Task).filter_by(state="open").order_by(Task.id).first()
    runtime.complete_task(session, first.id, people["pm"], {"decision": "approve"})
    session.commit()
    spec = check_definition(SHIPPED, "r.json")
    result = run_report(session, spec, "en", str)
    assert [c.key for c in result.columns] == ["flow", "step", "open_tasks", "oldest"]
    assert [row[:3] for row in result.rows] == [
        ("Change request", "Project manager review", 2),
        ("Change request", "Delivery director approval", 1)]
    assert all(row[3].tzinfo is not None for row in result.rows)
    chinese = run_report(session, spec, "zh-CN", str)
    assert [row[:2] for row in chinese.rows] == [("变更申请", "项目经理审核"),
                                                 ("变更申请", "交付总监审批")]


def test_formula_explains_the_numbers_in_plain_words():
    lines = formula(check_definition(SHIPPED, "r.json"), "en", str)
    assert lines == ["Open tasks = number of Tasks", "Waiting since = earliest Created",
                     "Only where: Task state is Open", "Grouped by: Flow and Step"]
    several = broken(filters=[{"field": "state", "op": "in", "value": ["open", "cancelled"]},
                              {"field": "flow_version", "op": "ge", "value": 2}])
    assert formula(check_definition(several, "r.json"), "zh-CN", str)[2] == (
        "Only where: Task state is one of Open或Cancelled和Flow version is at least 2")


def test_only_the_reports_roles_may_open_it(session, people):
    shipped = {path.stem for path in Path("definitions/reports").glob("*.json")}
    assert {s.key for s in readable(session, people["leader"])} == shipped
    assert len(shipped) >= 10
    assert readable(session, people["engineer1"]) == []
    with pytest.raises(Forbidden):
        report(session, "open_tasks_by_step", people["engineer1"])
    assert report(session, "open_tasks_by_step", people["admin"]).key == "open_tasks_by_step"
