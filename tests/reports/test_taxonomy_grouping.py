"""Grouping a taxonomy-coded field by a level of its tree, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from andon import clock
from andon.errors import InvalidDefinition
from andon.flows import causes, runtime
from andon.forms.records import create_record
from andon.reports.compiler import run_report
from andon.reports.definition import check_definition
from andon.reports.drill import drill
from andon.reports.formula import formula

REQUEST = {"title": "T", "project": "P", "reason": "R", "effort_days": "20",
           "customer_contact": "C"}
START = datetime.fromisoformat("2026-03-02T01:00:00+00:00")
CAUSES = ["external.system.contract_terms", "external.system.customer_budget",
          "external.mechanism.requirement_change", "internal.people.overload", None]
LABEL = {"en": "Late", "zh-CN": "延误"}


def body(level: int, **changes) -> dict:
    """Return a definition counting late tasks by cause at a level."""
    return {"key": "late_by_cause", "title": LABEL, "dataset": "tasks",
            "filters": [{"field": "overdue", "op": "is_true"},
                        {"field": "state", "op": "eq", "value": "completed"}],
            "group_by": [{"field": "cause", "level": level}],
            "measures": [{"key": "late", "agg": "count", "label": LABEL}],
            "sort": [{"key": "late", "dir": "desc"}, {"key": f"cause_level{level}"}],
            "visualisation": {"type": "pareto"}, **changes}


@pytest.fixture
def late_tasks(session, people):
    """Complete five project manager reviews a day late, four with a cause; return them."""
    done = []
    for cause in CAUSES:
        with clock.frozen(START):
            instance = runtime.start_instance(session, "change_request",
                                              people["engineer1"], REQUEST)
        task = next(t for t in instance.tasks if t.state == "open")
        with clock.frozen(task.due_at.replace(tzinfo=START.tzinfo) + timedelta(days=1)):
            runtime.complete_task(session, task.id, people["pm"], {"decision": "approve"},
                                  cause=cause)
        done.append(task)
    session.commit()
    return done


def rows(session, level, locale="en"):
    """Run the report at a level; return its rows with each group's label."""
    result = run_report(session, check_definition(body(level), "r.json", session), locale, str)
    return [(result.columns[0].shown(row[0]), *row) for row in result.rows]


def test_late_tasks_grouped_by_each_level_of_the_cause_tree(session, late_tasks):
    assert rows(session, 1) == [("External", "external", 3), ("Internal", "internal", 1),
                                (None, None, 1)]
    assert rows(session, 2) == [("External › System", "external.system", 2),
                                ("External › Mechanism", "external.mechanism", 1),
                                ("Internal › People", "internal.people", 1), (None, None, 1)]
    third = rows(session, 3)
    assert [row[1:] for row in third[:4]] == [(code, 1) for code in sorted(CAUSES[:4])]
    assert rows(session, 2, "zh-CN")[0][0] == "外部原因 › 制度"


def test_the_formula_says_the_level(session, late_tasks):
    spec = check_definition(body(2), "r.json", session)
    assert "Grouped by: Cause at level 2" in formula(spec, "en", str)


def test_drill_down_of_a_branch_lists_the_tasks_under_it(session, late_tasks):
    spec = check_definition(body(2), "r.json", session)
    found = drill(session, spec, "en", str, {"cause_level2": "external.system"}, "late")
    assert [r.id for r in found.rows] == [late_tasks[0].id, late_tasks[1].id]
    at = [c.key for c in found.columns].index("cause")
    assert found.rows[0].cells[at] == ("External › System › Contract scope or acceptance "
                                       "criteria not clearly agreed")
    none = drill(session, spec, "en", str, {"cause_level2": ""}, "late")
    assert [r.id for r in none.rows] == [late_tasks[4].id]


def test_only_taxonomy_fields_group_by_level(session, people):
    with pytest.raises(InvalidDefinition) as caught:
        check_definition(body(2, group_by=[{"field": "step", "level": 2}], sort=[]),
                         "r.json", session)
    assert caught.value.problems == [("r.json: $.group_by[0].level",
                                      "'step' holds no taxonomy codes")]
    with pytest.raises(InvalidDefinition) as caught:
        check_definition(body(4), "r.json", session)
    assert caught.value.problems[0][0] == "r.json: $.group_by[0]"


def test_records_of_a_form_group_their_taxonomy_field_by_level(session, people, deploy_issue):
    def with_cause(definition):
        definition["schema"]["properties"]["cause"] = {"type": "string"}
        definition["layout"]["order"].append("cause")
        definition["layout"]["fields"]["cause"] = {
            "label": {"en": "Cause", "zh-CN": "原因"}, "widget": "taxonomy",
            "taxonomy": "causes"}
    deploy_issue(with_cause)
    for title, cause in (("a", "internal.people.overload"),
                         ("b", "internal.people.inexperience"),
                         ("c", "external.system.contract_terms")):
        create_record(session, "issue", {"title": title, "severity": "low", "cause": cause},
                      people["engineer1"])
    session.commit()
    records = {"key": "issues", "title": LABEL, "dataset": "records:issue",
               "group_by": [{"field": "cause", "level": 1}],
               "measures": [{"key": "n", "agg": "count", "label": LABEL}],
               "sort": [{"key": "cause_level1"}], "visualisation": {"type": "bar"}}
    spec = check_definition(records, "r.json", session)
    result = run_report(session, spec, "en", str)
    assert result.rows == [("external", 1), ("internal", 2)]
    assert [result.columns[0].shown(r[0]) for r in result.rows] == ["External", "Internal"]


def test_a_level_needs_the_taxonomy_published(session, people):
    causes.use_taxonomy("no_such_taxonomy")
    try:
        with pytest.raises(InvalidDefinition) as caught:
            check_definition(body(2), "r.json", session)
    finally:
        causes.use_taxonomy(causes.DEFAULT_TAXONOMY)
    assert caught.value.problems == [
        ("r.json: $.group_by[0].level",
         "the taxonomy 'no_such_taxonomy' of 'cause' is not published")]
