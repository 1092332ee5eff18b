"""Visualisations from real results: every chart type, with a drill-down link per item."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from andon.reports.charts import chart
from andon.reports.compiler import Scope, run_report
from andon.reports.definition import check_definition

WORDS = {"none": "(none)", "remaining": "Remaining"}


def drawn(session, key, **visualisation):
    """Run a shipped report and return its chart, with links naming the group values."""
    body = json.loads(Path(f"definitions/reports/{key}.json").read_text())
    if visualisation:
        body["visualisation"] = visualisation
    spec = check_definition(body, "r.json", session)
    result = run_report(session, spec, "en", str, Scope())
    def link(group, measure):
        return "drill?" + "&".join(f"{k}={v}" for k, v in group.items()) + f"#{measure}"
    return chart(result, spec.body["visualisation"], link, WORDS)


def test_bar_plots_rates_as_percentages_with_the_target_marked(session, report_rows):
    option = drawn(session, "on_time_rate_by_step")
    assert option["xAxis"]["data"] == ["Change request / Project manager review",
                                       "Change request / Delivery director approval",
                                       "Change request / Describe the change"]
    bars = option["series"][0]
    assert [d["value"] for d in bars["data"]] == [50.0, 100.0, None]
    assert bars["data"][0]["drill"] == (
        "drill?flow=Change request&step=Project manager review#on_time_rate")
    assert bars["markLine"]["data"][0]["yAxis"] == 90.0


def test_pareto_sorts_largest_first_with_the_cumulative_share(session, report_rows):
    option = drawn(session, "escalations_by_level", type="pareto")
    assert option["series"][1]["data"] == [50.0, 100.0]
    assert option["yAxis"][1]["max"] == 100


def test_burndown_shows_what_remains_open(session, report_rows):
    option = drawn(session, "task_burndown")
    assert option["series"][2] == {"type": "line", "name": "Remaining",
                                   "data": [1, 2, 2, 1, 2]}


def test_stacked_bar_stacks_the_second_grouping(session, report_rows):
    option = drawn(session, "workload_per_person")
    assert option["xAxis"]["data"] == ["Outsider", "(none)"]
    assert {s["name"]: [d and d["value"] for d in s["data"]] for s in option["series"]} == {
        "Delivery director approval": [1, None], "Project manager review": [None, 1]}
    assert option["series"][1]["data"][1]["drill"] == \
        "drill?assignee=&step=Project manager review#open_tasks"


def test_pie_and_line(session, report_rows):
    pie = drawn(session, "escalations_by_level")["series"][0]
    assert [(d["name"], d["value"]) for d in pie["data"]] == [("1", 1), ("2", 1)]
    line = drawn(session, "cycle_time_by_flow", type="line", measures=["median"])
    assert line["series"] == [{"type": "line", "name": "Median (hours)", "data": [
        {"value": 72.0, "drill": "drill?flow=Change request#median"}]}]


@pytest.mark.parametrize(("target", "met"), [(0.9, False), (0.5, True)])
def test_kpi_card_has_value_target_and_trend(session, report_rows, target, met):
    body = json.loads(Path("definitions/reports/on_time_rate_trend.json").read_text())
    body["measures"][0]["target"]["value"] = target
    spec = check_definition(body, "r.json", session)
    kpi = chart(run_report(session, spec, "en", str), body["visualisation"], max, WORDS)
    assert kpi == {"kpi": True, "label": "On-time rate", "type": "rate", "value": 66.7,
                   "target": target * 100, "better": "higher", "met": met, "option": None,
                   "trend": [("2026-01", 66.7, met)]}


def test_kpi_trend_over_several_buckets_is_a_line_against_the_target(session, report_rows):
    body = json.loads(Path("definitions/reports/on_time_rate_trend.json").read_text())
    body["group_by"] = [{"field": "completed_at", "bucket": "week"}]
    body["sort"] = [{"key": "completed_at_week"}]
    spec = check_definition(body, "r.json", session)
    kpi = chart(run_report(session, spec, "en", str), body["visualisation"],
                lambda group, m: group["completed_at_week"], WORDS)
    # the week of the 19th completed only a task without a due time: no rate, so the card
    # shows the latest week that has one
    assert kpi["trend"] == [("2026-01-05", 100.0, True), ("2026-01-12", 50.0, False),
                            ("2026-01-19", None, None)]
    assert kpi["value"] == 50.0 and kpi["met"] is False
    line = kpi["option"]["series"][0]
    assert [d["value"] for d in line["data"]] == [100.0, 50.0, None]
    assert line["data"][1]["drill"] == "2026-01-12"
    assert line["markLine"]["data"][0]["yAxis"] == 90.0
