"""Report pages: parameters, chart and table, drill-down, exports and row-level access."""

from __future__ import annotations

import csv
import io
import json
import re

from openpyxl import load_workbook


def test_a_report_shows_chart_table_formula_and_parameters(client, auth, report_rows):
    auth.login("leader")
    page = client.get("/reports/on_time_rate_by_step")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "On-time rate = number of Tasks where" in html
    assert "50.0%" in html and "100.0%" in html
    option = json.loads(re.search(r'class="chart-option">(.*?)</script>', html, re.S).group(1))
    assert option["series"][0]["data"][0]["value"] == 50.0
    drill_url = option["series"][0]["data"][0]["drill"]
    assert "g.step=Project+manager+review" in drill_url
    assert 'name="period_from"' in html and '<option value="PRJ-A"' in html
    narrowed = client.get("/reports/on_time_rate_by_step?period_from=2026-01-11"
                          "&period_to=2026-01-31").get_data(as_text=True)
    assert "0.0%" in narrowed


def test_bad_parameters_are_named_and_kept(client, auth, report_rows):
    auth.login("leader")
    page = client.get("/reports/on_time_rate_by_step?period_from=2026-13-01&period_to=2026-01-31")
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert 'id="period_from-error"' in html and 'value="2026-13-01"' in html


def test_drill_down_lists_rows_linking_to_their_pages(client, auth, report_rows):
    auth.login("leader")
    page = client.get("/reports/on_time_rate_by_step/drill?g.flow=Change+request"
                      "&g.step=Project+manager+review&m=on_time_rate")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    review_a, review_b = report_rows["A"].tasks[1].id, report_rows["B"].tasks[1].id
    assert f'href="/tasks/{review_a}"' in html and f'href="/tasks/{review_b}"' in html
    cycle = client.get("/reports/cycle_time_by_flow/drill?g.flow=Change+request")
    assert f'href="/instances/{report_rows["B"].id}"' in cycle.get_data(as_text=True)


def test_exports_of_a_report_and_a_drill_down(client, auth, report_rows):
    auth.login("leader")
    sheet = client.get("/reports/escalations_by_level/export.xlsx")
    assert sheet.status_code == 200
    rows = list(load_workbook(io.BytesIO(sheet.data)).active.iter_rows(values_only=True))
    assert rows == [("Escalation level", "Escalated tasks"), (1, 1), (2, 1)]
    text = client.get("/reports/overdue_tasks_by_owner/drill.csv?g.assignee=").data
    lines = list(csv.reader(io.StringIO(text.decode("utf-8-sig"))))
    assert lines[0][0] == "Id" and len(lines) == 2
    assert lines[1][0] == str(report_rows["C"].tasks[1].id)


def open_to_members(session, key: str) -> None:
    """Publish a new version of a shipped report that members may open too."""
    from andon import catalog
    from andon.reports.definition import check_definition, dumps

    body = dict(catalog.current(session, "report", key).content, roles=["member", "leader"])
    spec = check_definition(body, f"{key}.json", session)
    catalog.publish(session, "report", key, spec.title, json.dumps(body), dumps(spec))
    session.commit()


def test_row_level_access_in_table_drill_and_export(client, auth, report_rows, session):
    """A member allowed to open a report sees only their unit's and their instances' rows."""
    auth.login("engineer1")
    assert client.get("/reports/workload_per_person").status_code == 403
    open_to_members(session, "workload_per_person")
    html = client.get("/reports/workload_per_person").get_data(as_text=True)
    assert "Delivery director approval" in html and "Project manager review" not in html
    hidden = report_rows["C"].tasks[1].id
    drilled = client.get("/reports/workload_per_person/drill?g.assignee=&g.step="
                         "Project+manager+review").get_data(as_text=True)
    assert "No rows." in drilled and f'/tasks/{hidden}"' not in drilled
    sheet = client.get("/reports/workload_per_person/export.csv").data.decode("utf-8-sig")
    assert "Delivery director approval" in sheet and "Project manager review" not in sheet
    auth.login("leader")
    drilled = client.get("/reports/workload_per_person/drill?g.assignee=&g.step="
                         "Project+manager+review").get_data(as_text=True)
    assert f'/tasks/{hidden}"' in drilled


def test_kpi_card_shows_value_target_and_trend(client, auth, report_rows):
    auth.login("leader")
    html = client.get("/reports/on_time_rate_trend").get_data(as_text=True)
    assert 'class="card kpi missed"' in html
    assert "66.7%" in html and "Target: 90.0%" in html and "below target" in html
    assert "<td class=\"string\">2026-01</td>" in html  # the table of the same numbers
    assert client.get("/reports/on_time_rate_trend/export.pdf").status_code == 404


def test_a_records_report_whose_form_lost_its_field_says_so(client, auth, session, people,
                                                             deploy_issue):
    from andon import catalog

    deploy_issue()
    body = {"key": "losses", "title": {"en": "Losses", "zh-CN": "损失"},
            "dataset": "records:issue", "group_by": ["severity"],
            "measures": [{"key": "loss", "agg": "sum", "field": "loss",
                          "label": {"en": "Loss", "zh-CN": "损失"}}],
            "visualisation": {"type": "bar"}}
    catalog.publish(session, "report", "losses", body["title"], json.dumps(body),
                    json.dumps(body))
    session.commit()
    auth.login("leader")
    assert client.get("/reports/losses").status_code == 200

    def without_loss(definition):
        del definition["schema"]["properties"]["loss"]
        definition["layout"]["order"].remove("loss")
        del definition["layout"]["fields"]["loss"]
    deploy_issue(without_loss)
    page = client.get("/reports/losses")
    assert page.status_code == 422
    assert "no longer fits its dataset" in page.get_data(as_text=True)


def test_a_report_in_chinese(client, auth, report_rows):
    auth.login("leader")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    page = client.get("/reports/on_time_rate_trend")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "按月按时完成率" in html and "按时完成率 = " in html


def test_a_report_says_who_may_open_it(client, auth, report_rows):
    auth.login("leader")
    html = client.get("/reports/escalations_by_level").get_data(as_text=True)
    assert "Open to: Administrator, Leader" in html


def test_stray_query_arguments_are_ignored(client, auth, report_rows):
    auth.login("leader")
    assert client.get("/reports/escalations_by_level?key=x&kind=y").status_code == 200
    page = client.get("/reports/escalations_by_level/drill?g.escalation_level=2&kind=y&key=z")
    assert page.status_code == 200
    assert f'/tasks/{report_rows["C"].tasks[1].id}"' in page.get_data(as_text=True)


def test_hand_offs_report_drills_down_to_the_instance(client, auth, session, people):
    from andon import clock
    from andon.flows import actions, runtime

    instance = runtime.start_instance(session, "change_request", people["engineer1"], {
        "title": "T", "project": "PRJ-A", "reason": "R", "effort_days": "4",
        "customer_contact": "C"})
    review = next(t for t in instance.tasks if t.state == "open")
    runtime.claim_task(session, review.id, people["pm"])
    actions.transfer(session, review.id, people["pm"], people["engineer2"], "On leave")
    session.commit()
    auth.login("leader")
    html = client.get("/reports/task_handoffs_by_month").get_data(as_text=True)
    assert "Task hand-offs per flow and month" in html and "Change request" in html
    month = clock.now().strftime("%Y-%m")
    drill = client.get(f"/reports/task_handoffs_by_month/drill?g.at_month={month}"
                       "&g.flow=Change+request")
    page = drill.get_data(as_text=True)
    assert drill.status_code == 200
    assert f"/instances/{instance.id}" in page and "Task transferred" in page
