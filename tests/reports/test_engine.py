"""The report engine on real rows, on SQLite and PostgreSQL: datasets, parameters, buckets,
measures, percentiles, targets, formula, drill-down and row-level access."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from andon import temporal
from andon.errors import InvalidDefinition
from andon.forms.records import create_record
from andon.reports.compiler import Scope, percentile, run_report
from andon.reports.definition import check_definition
from andon.reports.drill import drill
from andon.reports.formula import formula
from andon.reports.parameters import InvalidParameters

SHIPPED = Path("definitions/reports")
REVIEW = ("Change request", "Project manager review")
APPROVAL = ("Change request", "Delivery director approval")
DESCRIBE = ("Change request", "Describe the change")


def shipped(key: str, **changes) -> dict:
    """Return a shipped definition with some parts replaced."""
    body = json.loads((SHIPPED / f"{key}.json").read_text())
    body.update(copy.deepcopy(changes))
    return body


def run(session, body, reader=None, values=None, locale="en"):
    """Check and run a definition; return its rows."""
    spec = check_definition(body, "r.json", session)
    return run_report(session, spec, locale, str, Scope(reader, values)).rows


def test_on_time_rate_by_step_counts_only_tasks_with_a_due_time(session, report_rows):
    rows = run(session, shipped("on_time_rate_by_step"))
    assert rows == [(*REVIEW, 0.5, 2), (*APPROVAL, 1.0, 1), (*DESCRIBE, None, 0)]


def test_parameters_narrow_by_period_project_and_flow(session, report_rows):
    body = shipped("on_time_rate_by_step")
    january = {"period_from": "2026-01-11", "period_to": "2026-01-31"}
    assert run(session, body, values=january) == [(*REVIEW, 0.0, 1), (*APPROVAL, 1.0, 1),
                                                  (*DESCRIBE, None, 0)]
    assert run(session, body, values={"project": "PRJ-A"}) == [
        (*REVIEW, 1.0, 1), (*APPROVAL, None, 0), (*DESCRIBE, None, 0)]
    assert run(session, body, values={"flow": "no_such_flow"}) == []
    assert run(session, body, values={"org_unit": "delivery-west"}) == [(*DESCRIBE, None, 0),
                                                                     (*REVIEW, None, 0)]


def test_bad_parameter_values_name_the_input(session, report_rows):
    with pytest.raises(InvalidParameters) as caught:
        run(session, shipped("on_time_rate_by_step"),
            values={"period_from": "2026-13-01", "period_to": "2026-01-01"})
    assert set(caught.value.errors) == {"period_from"}
    with pytest.raises(InvalidParameters) as caught:
        run(session, shipped("on_time_rate_by_step"),
            values={"period_from": "2026-02-01", "period_to": "2026-01-01"})
    assert set(caught.value.errors) == {"period_to"}


def test_readers_see_only_their_org_unit_and_the_instances_they_take_part_in(
        session, people, report_rows):
    body = shipped("on_time_rate_by_step")
    assert run(session, body, people["leader"]) == run(session, body)
    # outsider (delivery-west) started C and holds A's approval: A and C, not B
    assert run(session, body, report_rows["outsider"]) == [(*REVIEW, 1.0, 1),
                                                           (*APPROVAL, None, 0),
                                                           (*DESCRIBE, None, 0)]
    # engineer1 (delivery-east) sees A and B, started by east people, not C
    workload = run(session, shipped("workload_per_person"), people["engineer1"])
    assert workload == [("Outsider", "Delivery director approval", 1)]
    assert run(session, shipped("workload_per_person"), report_rows["outsider"]) == [
        ("Outsider", "Delivery director approval", 1), (None, "Project manager review", 1)]


def test_overdue_escalations_and_cycle_time(session, report_rows):
    assert run(session, shipped("overdue_tasks_by_owner")) == [("Outsider", 1, 590.0),
                                                               (None, 1, 264.0)]
    assert run(session, shipped("escalations_by_level")) == [(1, 1), (2, 1)]
    assert run(session, shipped("cycle_time_by_flow")) == [("Change request", 1, 72.0, 72.0,
                                                            72.0)]


def test_percentiles_interpolate_like_percentile_cont(session, report_rows):
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([10, 0, 5], 90) == 9.0
    assert percentile([], 50) is None
    body = shipped("on_time_rate_by_step", measures=[
        {"key": "p50", "agg": "percentile", "p": 50, "field": "hours_taken",
         "label": {"en": "p50", "zh-CN": "p50"}},
        {"key": "worst", "agg": "max", "field": "hours_taken",
         "label": {"en": "max", "zh-CN": "max"}}], sort=[{"key": "p50", "dir": "desc"}],
        visualisation={"type": "table"})
    assert run(session, body) == [(*REVIEW, 28.5, 48.0), (*APPROVAL, 24.0, 24.0),
                                  (*DESCRIBE, 0.0, 0.0)]


@pytest.mark.parametrize(("unit", "expected"), [
    ("day", [("2026-01-05", 3), ("2026-01-10", 2), ("2026-01-12", 1), ("2026-01-20", 2)]),
    ("week", [("2026-01-05", 5), ("2026-01-12", 1), ("2026-01-19", 2)]),
    ("month", [("2026-01", 8)]),
    ("quarter", [("2026-Q1", 8)]),
])
def test_time_buckets_agree_on_both_databases(session, report_rows, unit, expected):
    body = shipped("open_tasks_by_step", filters=[], group_by=[
        {"field": "created_at", "bucket": unit}], sort=[{"key": f"created_at_{unit}"}],
        measures=[{"key": "n", "agg": "count", "label": {"en": "n", "zh-CN": "n"}}])
    assert run(session, body) == expected


def test_buckets_count_days_in_the_installation_zone(session, report_rows):
    temporal.use_installation_zone("America/New_York")  # 5 hours behind UTC in winter
    body = shipped("open_tasks_by_step", filters=[], group_by=[
        {"field": "created_at", "bucket": "day"}], sort=[{"key": "created_at_day"}],
        measures=[{"key": "n", "agg": "count", "label": {"en": "n", "zh-CN": "n"}}])
    assert run(session, body) == [("2026-01-04", 2), ("2026-01-05", 1), ("2026-01-09", 2),
                                  ("2026-01-11", 1), ("2026-01-19", 2)]


def test_burndown_counts_done_tasks_on_the_day_they_were_completed(session, report_rows):
    assert run(session, shipped("task_burndown")) == [
        ("2026-01-05", 3, 2), ("2026-01-10", 2, 1), ("2026-01-12", 1, 1),
        ("2026-01-13", 0, 1), ("2026-01-20", 2, 1)]


def test_kpi_target_and_trend_by_month(session, report_rows):
    spec = check_definition(shipped("on_time_rate_trend"), "r.json", session)
    result = run_report(session, spec, "en", str)
    assert result.rows == [("2026-01", 0.666667, 3)]
    assert result.columns[1].target == 0.9 and result.columns[1].type == "rate"
    lines = formula(spec, "en", str)
    assert lines[0] == ("On-time rate = number of Tasks where Completed on time is yes "
                        "divided by number of Tasks where Completed on time is not empty")
    assert lines[2] == ("Only where: Task state is Completed, Completed within the period "
                        "the reader chooses, Flow as the reader chooses, Project as the "
                        "reader chooses, and Org unit as the reader chooses")
    assert "Completed by month" in lines[-2]
    assert lines[-1] == "Target for On-time rate: at least 90%"


def test_typed_operators_are_checked_against_the_field(session, report_rows):
    bad = [
        ({"field": "state", "op": "gt", "value": "open"}, "$.filters[0].op"),
        ({"field": "escalation_level", "op": "eq", "value": "two"}, "$.filters[0].value"),
        ({"field": "created_at", "op": "ge", "value": "yesterday"}, "$.filters[0].value"),
        ({"field": "state", "op": "in", "value": ["open", "lost"]}, "$.filters[0].value"),
        ({"field": "on_time", "op": "eq", "value": True}, "$.filters[0].op"),
        ({"field": "created_at", "op": "between", "value": ["2026-01-01"]},
         "$.filters[0].value"),
    ]
    for condition, where in bad:
        with pytest.raises(InvalidDefinition) as caught:
            check_definition(shipped("open_tasks_by_step", filters=[condition]), "r.json")
        assert [p for p, _ in caught.value.problems] == [f"r.json: {where}"], condition
    body = shipped("open_tasks_by_step", filters=[
        {"field": "created_at", "op": "between", "value": ["2026-01-05", "2026-01-10T12:00"]},
        {"field": "step", "op": "contains", "value": "review"},
        {"field": "escalation_level", "op": "not_in", "value": [2]}])
    assert [r[:3] for r in run(session, body)] == [(*REVIEW, 2)]


def test_drill_down_lists_the_rows_behind_a_number(session, report_rows):
    spec = check_definition(shipped("on_time_rate_by_step"), "r.json", session)
    group = dict(zip(("flow", "step"), REVIEW, strict=True))
    rated = drill(session, spec, "en", str, group, "on_time_rate")
    assert [(r.link, r.id) for r in rated.rows] == [
        ("task", report_rows["A"].tasks[1].id), ("task", report_rows["B"].tasks[1].id)]
    every = drill(session, spec, "en", str, group)
    assert len(every.rows) == 3 and not every.more
    mine = drill(session, spec, "en", str, group, "on_time_rate",
                 Scope(report_rows["outsider"], {}))
    assert [r.id for r in mine.rows] == [report_rows["A"].tasks[1].id]
    states = [r.cells[[c.key for c in every.columns].index("state")] for r in every.rows]
    assert states == ["Completed", "Completed", "Open"]


def test_drill_down_of_a_burndown_lists_tasks_done_that_day(session, report_rows):
    spec = check_definition(shipped("task_burndown"), "r.json", session)
    done = drill(session, spec, "en", str, {"created_at_day": "2026-01-13"}, "done")
    assert [r.id for r in done.rows] == [report_rows["B"].tasks[2].id]
    added = drill(session, spec, "en", str, {"created_at_day": "2026-01-12"}, "added")
    assert [r.id for r in added.rows] == [report_rows["B"].tasks[2].id]


def test_drill_down_by_a_bucket_and_an_empty_group(session, report_rows):
    spec = check_definition(shipped("overdue_tasks_by_owner"), "r.json", session)
    unclaimed = drill(session, spec, "en", str, {"assignee": ""})
    assert [r.id for r in unclaimed.rows] == [report_rows["C"].tasks[1].id]
    spec = check_definition(shipped("cycle_time_by_flow"), "r.json", session)
    assert [(r.link, r.id) for r in drill(session, spec, "en", str,
                                          {"flow": "Change request"}).rows] == [
        ("instance", report_rows["B"].id)]


def test_records_of_a_form_are_a_dataset(session, people, deploy_issue):
    deploy_issue()
    for title, severity, loss, found in (("a", "high", 100, "2026-01-03"),
                                         ("b", "high", 50.5, "2026-02-10"),
                                         ("c", "low", 7, "2026-01-20")):
        create_record(session, "issue", {"title": title, "severity": severity, "loss": loss,
                                         "found_on": found}, people["engineer1"])
    session.commit()
    body = {"key": "loss", "title": {"en": "L", "zh-CN": "L"}, "dataset": "records:issue",
            "group_by": ["severity", {"field": "found_on", "bucket": "month"}],
            "filters": [{"field": "loss", "op": "ge", "value": 1}],
            "measures": [{"key": "loss", "agg": "sum", "field": "loss",
                          "label": {"en": "Loss", "zh-CN": "损失"}},
                         {"key": "n", "agg": "count", "label": {"en": "n", "zh-CN": "n"}}],
            "sort": [{"key": "severity"}, {"key": "found_on_month"}],
            "visualisation": {"type": "table"}}
    assert run(session, body) == [("high", "2026-01", 100, 1), ("high", "2026-02", 50.5, 1),
                                  ("low", "2026-01", 7, 1)]
    spec = check_definition(body, "r.json", session)
    found = drill(session, spec, "en", str, {"severity": "high", "found_on_month": "2026-02"})
    assert [(r.link, r.form_key) for r in found.rows] == [("record", "issue")]
    with pytest.raises(InvalidDefinition) as caught:
        check_definition({**body, "measures": [{"key": "x", "agg": "sum", "field": "title",
                                                "label": {"en": "x", "zh-CN": "x"}}]},
                         "r.json", session)
    assert caught.value.problems[0][0] == "r.json: $.measures[0].field"


def test_a_forms_record_rule_binds_reports_too(session, people, deploy_issue):
    deploy_issue(lambda d: d["layout"].update(records={"readers": ["designer"]}))
    create_record(session, "issue", {"title": "a", "severity": "high"}, people["admin"])
    session.commit()
    body = {"key": "n", "title": {"en": "N", "zh-CN": "N"}, "dataset": "records:issue",
            "measures": [{"key": "n", "agg": "count", "label": {"en": "n", "zh-CN": "n"}}],
            "visualisation": {"type": "table"}}
    assert run(session, body, people["admin"]) == [(1,)]
    assert run(session, body, people["leader"]) == [(0,)]  # a leader, but not a reader
    assert run(session, body, people["engineer1"]) == [(0,)]


def test_drill_down_of_tasks_shows_working_hours_in_the_flows_calendar(session, report_rows):
    spec = check_definition(shipped("on_time_rate_by_step"), "r.json", session)
    found = drill(session, spec, "en", str, dict(zip(("flow", "step"), REVIEW, strict=True)))
    assert found.columns[-1].key == "working_hours_taken"
    # A: Monday 09:00-18:00 Shanghai is 7.5 working hours; B: Saturday to Monday 08:00, none
    assert [row.cells[-1] for row in found.rows] == [7.5, 0.0, None]


def test_reader_values_are_bound_never_pasted_into_sql(session, report_rows):
    from andon.reports.compiler import compile_report

    sly = "PRJ-A' OR '1'='1"
    body = shipped("on_time_rate_by_step")
    assert run(session, body, values={"project": sly}) == []
    spec = check_definition(body, "r.json", session)
    query, _ = compile_report(spec, "en", session, Scope(None, {"project": sly}))
    compiled = query.compile()
    assert sly not in str(compiled) and sly in compiled.params.values()
