"""A client project's page: its delivery's stages, open tasks, changes, retrospective, budget."""

from __future__ import annotations

import html
import json
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from andon import clock
from andon.flows import runtime
from andon.flows.models import FlowInstance
from andon.forms.models import Record
from andon.forms.records import create_record
from andon.forms.store import deploy_form
from andon.identity.accounts import create_user

SHANGHAI = ZoneInfo("Asia/Shanghai")
PROJECT = {"name": "华东电网调度平台 Grid dispatch platform", "code": "PRJ-2026-031",
           "client": "华东电网 East China Grid", "region": "华东 East", "status": "active",
           "project_manager": "pm", "delivery_director": "director",
           "contract_value": 2400000, "budget_amount": 1500000, "cost_to_date": 300000,
           "effort": [{"role": "Developer", "budget_days": 400, "actual_days": 110,
                       "day_rate": 2000},
                      {"role": "Tester", "budget_days": 10, "actual_days": 12,
                       "day_rate": 1600}]}
STAGE = {"summary": "Done as planned", "next_steps": "Go on", "days_spent": "5"}
SIGNED = {"summary": "SRS", "signoff_result": "accepted", "signed_by": "Liu Yang",
          "signed_on": "2026-03-05"}
NOTE = {"key": "site_note", "title": {"en": "Site note", "zh-CN": "现场记录"},
        "schema": {"type": "object", "required": ["title"],
                   "properties": {"title": {"type": "string"}, "project": {"type": "integer"}}},
        "layout": {"fields": {"project": {"widget": "record", "form": "project"}}}}


def at(text: str) -> datetime:
    """Return a Shanghai wall-clock time."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def page(client, record: Record, **headers: str) -> str:
    """Return the project's page with entities decoded."""
    response = client.get(f"/records/project/{record.id}", headers=headers)
    assert response.status_code == 200, response.status_code
    return html.unescape(response.get_data(as_text=True))


def section(text: str, name: str) -> str:
    """Return one section of the page by its id."""
    found = re.search(rf'<section class="card[^"]*" id="{name}">(.*?)</section>', text, re.S)
    assert found, name
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1)))


def stage_rows(text: str) -> list[list[str]]:
    """Return the stage table's rows, each as its cells' plain text."""
    rows = re.findall(r'<tr class="stage [^"]*">(.*?)</tr>', text, re.S)
    return [[re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", cell)).strip()
             for cell in re.findall(r"<td>(.*?)</td>", row, re.S)] for row in rows]


@pytest.fixture
def project(session, people) -> Record:
    """A project whose delivery did kickoff late and requirements on time; build waits."""
    record = create_record(session, "project", PROJECT, people["pm"])
    with clock.frozen(at("2026-03-02T10:00")):
        instance = runtime.start_instance(session, "project_delivery", people["pm"], {
            "title": "Grid dispatch delivery", "project": record.id,
            "delivery_director": "director", "tech_lead": "engineer1", "test_lead": "engineer2"})
    for moment, form in (("2026-03-06T10:00", STAGE), ("2026-03-09T10:00", SIGNED),
                         ("2026-03-10T10:00", STAGE)):
        task = next(t for t in instance.tasks if t.state == "open")
        with clock.frozen(at(moment)):
            runtime.complete_task(session, task.id, task.assignee, form)
    with clock.frozen(at("2026-03-11T10:00")):
        runtime.start_instance(session, "change_request", people["engineer1"], {
            "title": "Add an export", "project": str(record.id), "reason": "Customer request",
            "effort_days": "4", "customer_contact": "Liu Yang"})
    session.commit()
    return record


def test_the_stages_show_owner_due_completion_and_verdict_in_the_models_order(
        auth, client, project):
    auth.login("pm")
    with clock.frozen(at("2026-03-12T10:00")):
        text = page(client, project)
    assert "Grid dispatch delivery" in section(text, "stages")
    rows = stage_rows(text)
    assert [row[0] for row in rows] == [
        "Kickoff", "Requirements and solution design", "Work breakdown", "Build",
        "Internal test", "User acceptance", "Retrospective", "Archive"]
    kickoff, requirements, breakdown, build, test = rows[:5]
    assert (kickoff[1], kickoff[4]) == ("王芳 Wang Fang", "Late")
    assert "Mar 5, 2026" in kickoff[2] and "Mar 6, 2026" in kickoff[3]
    assert requirements[4] == "On time" and breakdown[1] == "李雷 Li Lei"
    assert (build[1], build[3], build[4]) == ("李雷 Li Lei", "", "In progress")
    assert test == ["Internal test", "", "", "", "Not started"]
    chinese = page(client, project, **{"Accept-Language": "zh-CN"})
    assert stage_rows(chinese)[0][:2] == ["项目启动", "王芳 Wang Fang"]


def test_an_overdue_stage_and_the_open_tasks_say_so(auth, client, project):
    auth.login("pm")
    with clock.frozen(at("2026-05-20T10:00")):  # build was due in April
        text = page(client, project)
    assert stage_rows(text)[3][4] == "Overdue"
    tasks = section(text, "open-tasks")
    assert "Build · Grid dispatch delivery · 李雷 Li Lei" in tasks and "Overdue" in tasks
    assert "Add an export" in tasks  # the change request's open review


def test_changes_are_other_flows_and_records_linked_to_the_project_by_flow_and_form(
        auth, client, session, people, project):
    deploy_form(session, json.dumps(NOTE), "site_note.json")
    create_record(session, "site_note", {"title": "Cabinet delivered", "project": project.id},
                  people["engineer1"])
    session.commit()
    auth.login("leader")
    changes = section(page(client, project), "changes")
    assert "Change request (1)" in changes and "Add an export" in changes
    assert "Site note (1)" in changes and "Cabinet delivered" in changes
    assert "Grid dispatch delivery" not in changes  # the delivery is the stages


def test_the_budget_shows_cost_against_budget_and_man_days_by_role(auth, client, project):
    auth.login("pm")
    budget = section(page(client, project), "budget")
    assert "¥2,400,000.00" in budget and "¥1,500,000.00" in budget
    assert "20% · ¥1,200,000.00 left" in budget
    assert "Developer 400.0 110.0 28% ¥220,000.00" in budget
    assert "Tester 10.0 12.0 120% ¥19,200.00" in budget
    assert "Total 410.0 122.0 ¥239,200.00" in budget


def test_the_retrospective_shows_what_the_delivery_recorded(auth, client, session, people,
                                                            project):
    instance = session.query(FlowInstance).filter_by(project=str(project.id),
                                                     title="Grid dispatch delivery").one()
    for form in (STAGE, STAGE, SIGNED, {**STAGE, "summary": "Estimate the build better",
                                        "issues": "Specs came late"}):
        task = next(t for t in instance.tasks if t.state == "open")
        with clock.frozen(at("2026-04-01T10:00")):
            runtime.complete_task(session, task.id, task.assignee, form)
    session.commit()
    auth.login("pm")
    text = page(client, project)
    retro = section(text, "retrospective")
    assert "Estimate the build better" in retro and "Specs came late" in retro
    assert "What was done" in retro and "Project" not in retro.split("·")[-1]
    assert stage_rows(text)[6][4] == "On time"


def test_a_reader_sees_only_the_flows_they_may_open(auth, client, session, people, project):
    create_user(session, "visitor", "Visitor", "long-enough-1")
    session.commit()
    auth.login("visitor", "long-enough-1")
    text = page(client, project)
    assert "No delivery of this project that you may see." in section(text, "stages")
    assert "Add an export" not in text and "No open tasks." in section(text, "open-tasks")
    assert "¥1,500,000.00" in section(text, "budget")  # the record itself is readable
    auth.login("engineer1")  # started the change, holds the build
    text = page(client, project)
    assert "Add an export" in section(text, "changes") and stage_rows(text)


def test_other_forms_records_get_no_project_sections(auth, client, session, people):
    deploy_form(session, json.dumps(NOTE), "site_note.json")
    note = create_record(session, "site_note", {"title": "Alone"}, people["pm"])
    session.commit()
    auth.login("pm")
    response = client.get(f"/records/site_note/{note.id}")
    assert response.status_code == 200 and 'id="stages"' not in response.get_data(as_text=True)


def test_records_of_a_retrospective_form_linked_to_the_project_are_its_retrospective(
        auth, client, session, people, project):
    form = {**NOTE, "key": "project_retrospective",
            "title": {"en": "Project retrospective", "zh-CN": "项目复盘"}}
    deploy_form(session, json.dumps(form), "project_retrospective.json")
    create_record(session, "project_retrospective",
                  {"title": "Lessons from the build", "project": project.id}, people["pm"])
    session.commit()
    auth.login("pm")
    text = page(client, project)
    assert "Lessons from the build" in section(text, "retrospective")
    assert "No retrospective yet." not in section(text, "retrospective")


def test_a_project_over_its_budget_says_by_how_much(auth, client, session, people):
    record = create_record(session, "project", {**PROJECT, "cost_to_date": 1650000},
                           people["pm"])
    session.commit()
    auth.login("pm")
    assert "110% · ¥150,000.00 over budget" in section(page(client, record), "budget")
