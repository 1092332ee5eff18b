"""The shipped project delivery: its definitions, a whole delivery, and a slipping stage."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from andon import catalog, clock, files, jobs
from andon.audit import history
from andon.flows import lint, runtime
from andon.flows.models import FlowInstance, Task
from andon.forms import file_fields
from andon.forms.models import Record
from andon.forms.records import create_record
from andon.forms.schema import FormSpec
from andon.identity.models import Group, User
from andon.notifications.models import Notification

ROOT = Path(__file__).resolve().parent.parent.parent
SHANGHAI = ZoneInfo("Asia/Shanghai")
PROJECT = {"name": "华东电网调度平台 Grid dispatch platform", "code": "PRJ-2026-031",
           "client": "华东电网 East China Grid", "region": "华东 East", "status": "active",
           "project_manager": "pm", "delivery_director": "director",
           "contract_value": 2400000, "budget_amount": 1500000, "cost_to_date": 300000,
           "milestones": [{"milestone": "需求确认 Requirements signed", "due_date": "2026-03-31",
                           "amount": 480000, "acceptance_criteria": "SRS signed",
                           "status": "open"}],
           "team": [{"member": "engineer1", "role": "Tech lead", "allocation": 100}]}
STAGE = {"summary": "Done as planned", "issues": "", "next_steps": "Go on", "days_spent": "5"}


def at(text: str) -> datetime:
    """Return a Shanghai wall-clock time."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def project(session: Session, people: dict[str, User]) -> Record:
    """Create the project record, as its project manager."""
    record = create_record(session, "project", PROJECT, people["pm"])
    session.commit()
    return record


def start(session: Session, people: dict[str, User], record: Record,
          moment: datetime) -> FlowInstance:
    """Start the delivery of a project at a moment, as its project manager."""
    with clock.frozen(moment):
        instance = runtime.start_instance(session, "project_delivery", people["pm"], {
            "title": "Grid dispatch delivery", "project": str(record.id),
            "delivery_director": "director", "tech_lead": "engineer1",
            "test_lead": "engineer2", "planned_acceptance": "2026-05-29"})
        session.commit()
    return instance


def waiting(instance: FlowInstance) -> Task:
    """Return the instance's one open task."""
    (task,) = [t for t in instance.tasks if t.state == "open"]
    return task


def finish(session: Session, instance: FlowInstance, moment: datetime,
           form: dict[str, object]) -> Task:
    """Complete the open task as its assignee at a moment; return it."""
    task = waiting(instance)
    with clock.frozen(moment):
        runtime.complete_task(session, task.id, task.assignee, form)
        session.commit()
    return task


def evidence(session: Session, people: dict[str, User], tmp_path: Path, name: str) -> str:
    """Upload a signed sheet as the project manager; return its attachment id."""
    spec = FormSpec(**catalog.current(session, "form", "customer_signoff").content)
    kept = file_fields.receive(session, files.UploadSettings(folder=tmp_path), spec, "evidence",
                               io.BytesIO(b"%PDF-1.4 signed"), name, people["pm"])
    return str(kept.id)


def signoff(result: str, signed_on: str, proof: str) -> dict[str, object]:
    """Return a customer sign-off form."""
    return {"summary": "Reviewed with the customer", "signoff_result": result,
            "signed_by": "刘洋 Liu Yang", "signer_title": "IT director", "signed_on": signed_on,
            "evidence": [proof]}


def escalations(session: Session, task: Task) -> list[tuple[str, datetime]]:
    """Return a task's planned escalation levels: (action and target, due time in Shanghai)."""
    items = session.scalars(select(jobs.WorkItem).where(
        jobs.WorkItem.task_id == task.id, jobs.WorkItem.kind == "escalate")
        .order_by(jobs.WorkItem.due_at))
    return [(f"{i.payload['action']} {i.payload['target']}",
             i.due_at.astimezone(SHANGHAI)) for i in items]


def test_the_definitions_load_and_the_flow_has_no_findings(session, people):
    source = (ROOT / "definitions" / "flows" / "project_delivery.bpmn").read_bytes()
    assert lint.findings(session, source, "project_delivery.bpmn") == []
    content = catalog.current(session, "flow", "project_delivery").content
    assert set(content["forms"]) == {"delivery_start", "stage_report", "customer_signoff"}
    assert content["start_form"] == "delivery_start"
    fields = catalog.current(session, "form", "project").content["layout"]["fields"]
    assert {fields[name]["widget"] for name in ("contract_value", "project_manager",
                                                "documents")} == {"money", "user", "file"}


def test_a_delivery_runs_every_stage_with_its_owner_due_time_and_sign_offs(
        session, people, tmp_path):
    record = project(session, people)
    assert record.data["cost_consumed"] == 20  # computed: 300 000 of 1 500 000
    instance = start(session, people, record, at("2026-03-02T10:00"))  # a Monday
    assert instance.project == str(record.id) and instance.data["project"] == record.id
    stages = [  # step, owner, due time, completed at, with
        ("kickoff", "pm", "2026-03-05T10:00", "2026-03-04T10:00", STAGE),
        ("requirements", "pm", "2026-03-18T10:00", "2026-03-16T10:00",
         signoff("rejected", "2026-03-16", evidence(session, people, tmp_path, "r1.pdf"))),
        ("requirements", "pm", "2026-03-30T10:00", "2026-03-18T10:00",
         signoff("accepted", "2026-03-18", evidence(session, people, tmp_path, "srs.pdf"))),
        ("breakdown", "engineer1", "2026-03-23T10:00", "2026-03-20T10:00", STAGE),
        # 20 working days from Friday 20 March skip Qingming (4-6 April)
        ("build", "engineer1", "2026-04-20T10:00", "2026-04-17T10:00", STAGE),
        ("internal_test", "engineer2", "2026-04-24T10:00", "2026-04-23T10:00", STAGE),
        # 10 working days skip Labour Day (1-5 May) and count Saturday 9 May
        ("acceptance", "pm", "2026-05-11T10:00", "2026-05-08T10:00",
         signoff("accepted_with_issues", "2026-05-08",
                 evidence(session, people, tmp_path, "uat.pdf"))),
        ("retrospective", "pm", "2026-05-14T10:00", "2026-05-11T10:00", STAGE),  # 9 May counts
        ("archive", "pm", "2026-05-14T10:00", "2026-05-12T10:00", STAGE),
    ]
    done = []
    for step, owner, due, moment, form in stages:
        task = waiting(instance)
        assert (task.step_id, task.assignee.username) == (step, owner)
        assert task.due_at.astimezone(SHANGHAI) == at(due), step
        done.append(finish(session, instance, at(moment), form))
    session.expire_all()
    assert instance.status == "completed"
    assert instance.outcome["en"] == "Project archived"

    first, second = done[1], done[2]  # the refused and the accepted requirements sign-off
    assert first.data["signoff_result"] == "rejected"
    assert (second.data["signed_by"], second.data["signed_on"]) == ("刘洋 Liu Yang",
                                                                      "2026-03-18")
    assert done[6].data["signoff_result"] == "accepted_with_issues"
    assert all(task.data["project"] == record.id for task in done)  # shown, never retyped
    kept = {a.filename: a.task_id for a in session.scalars(files.of_instance(instance.id))}
    assert kept == {"r1.pdf": first.id, "srs.pdf": second.id, "uat.pdf": done[6].id}


def test_a_refused_acceptance_sends_the_work_back_to_the_build(session, people, tmp_path):
    instance = start(session, people, project(session, people), at("2026-03-02T10:00"))
    moment = at("2026-03-03T10:00")
    for form in (STAGE, signoff("accepted", "2026-03-03", evidence(session, people, tmp_path,
                                                                   "srs.pdf")),
                 STAGE, STAGE, STAGE):
        finish(session, instance, moment, form)
    assert waiting(instance).step_id == "acceptance"
    finish(session, instance, moment,
           signoff("rejected", "2026-03-03", evidence(session, people, tmp_path, "no.pdf")))
    rework = waiting(instance)
    assert (rework.step_id, rework.assignee.username) == ("build", "engineer1")


def test_a_slipping_stage_escalates_to_the_delivery_director_then_all_directors(
        session, people, tmp_path, worker):
    directors = session.scalar(select(Group).where(Group.key == "delivery-directors"))
    directors.members.append(people["leader"])  # a second director, not on this project
    session.commit()
    instance = start(session, people, project(session, people), at("2026-03-02T10:00"))
    moment = at("2026-03-02T11:00")
    for form in (STAGE, signoff("accepted", "2026-03-02", evidence(session, people, tmp_path,
                                                                   "srs.pdf")), STAGE):
        finish(session, instance, moment, form)
    build = waiting(instance)
    assert build.step_id == "build"
    assert escalations(session, build) == [
        ("notify starter", at("2026-03-30T11:00")),  # due: 20 working days
        ("notify field:delivery_director", at("2026-03-31T11:00")),
        ("notify group:delivery-directors", at("2026-04-02T11:00"))]

    def told(username: str) -> list[str]:
        session.expire_all()
        return list(session.scalars(
            select(Notification.kind).join(User, Notification.user_id == User.id)
            .where(User.username == username, Notification.kind == "escalation")))

    worker(at("2026-03-30T11:00"))
    assert (told("pm"), told("director")) == (["escalation"], [])
    worker(at("2026-03-31T11:00"))
    assert (told("director"), told("leader")) == (["escalation"], [])
    worker(at("2026-04-02T11:00"))
    assert (told("director"), told("leader")) == (["escalation"] * 2, ["escalation"])
    kinds = [e.kind for e in history(session, "instance", instance.id)]
    assert kinds.count("task.escalated") == 3


def test_a_slipping_customer_acceptance_escalates_to_the_delivery_director_when_due(
        session, people, tmp_path, worker):
    instance = start(session, people, project(session, people), at("2026-03-02T10:00"))
    moment = at("2026-03-02T11:00")
    for form in (STAGE, signoff("accepted", "2026-03-02", evidence(session, people, tmp_path,
                                                                   "srs.pdf")),
                 STAGE, STAGE, STAGE):
        finish(session, instance, moment, form)
    acceptance = waiting(instance)
    assert (acceptance.step_id, acceptance.assignee.username) == ("acceptance", "pm")
    due = at("2026-03-16T11:00")  # 10 working days
    assert escalations(session, acceptance) == [
        ("notify field:delivery_director", due),
        ("notify group:delivery-directors", at("2026-03-18T11:00"))]

    def told(username: str) -> int:
        session.expire_all()
        return len(list(session.scalars(
            select(Notification).join(User, Notification.user_id == User.id)
            .where(User.username == username, Notification.kind == "escalation"))))

    worker(at("2026-03-16T10:59"))
    assert told("director") == 0
    worker(due)
    assert (told("director"), told("pm")) == (1, 0)
    session.expire_all()
    assert acceptance.escalation_level == 1
    (event,) = [e for e in history(session, "instance", instance.id)
                if e.kind == "task.escalated"]
    assert (event.detail["target"], event.at) == ("field:delivery_director", due)
