"""The shipped receivable exceptions: orders to cash, late stages, causes, dispatch, KPIs."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from andon import clock
from andon.audit import history
from andon.demo import projects
from andon.flows import actions, deadlines, lint, record_starts, runtime
from andon.flows.deploy import deploy_flow
from andon.flows.models import FlowInstance, Task
from andon.forms.models import Record
from andon.forms.record_imports import save_rows
from andon.forms.records import create_record
from andon.forms.schema import FormSpec
from andon.forms.store import deploy_form
from andon.identity.models import User
from andon.notifications.models import Notification
from andon.reports.compiler import run_report
from andon.reports.store import report

ROOT = Path(__file__).resolve().parent.parent.parent
SHANGHAI = ZoneInfo("Asia/Shanghai")
OWNERS = {"delivery_owner": "engineer1", "confirmation_owner": "engineer1",
          "billing_owner": "engineer2", "reconciliation_owner": "engineer2",
          "invoicing_owner": "pm", "acceptance_owner": "pm", "payment_owner": "pm"}
STAGES = ["delivery", "confirmation", "billing", "reconciliation", "invoicing", "acceptance",
          "payment"]


def at(text: str) -> datetime:
    """Return a Shanghai wall-clock time."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def order(number: str, amount: int) -> dict[str, object]:
    """Return an order record's data."""
    return {"customer": "华东电网 East China Grid", "order_number": number, "amount": amount,
            "currency": "CNY", "order_date": "2026-03-02", "status": "open", **OWNERS}


def place(session: Session, people: dict[str, User], number: str, amount: int,
          moment: datetime, project: int | None = None) -> FlowInstance:
    """Create an order as the project manager at a moment; its flow starts with it."""
    with clock.frozen(moment):
        spec = FormSpec(**runtime.catalog.current(session, "form", "order").content)
        data = {**order(number, amount), **({"project": project} if project else {})}
        record = create_record(session, "order", data, people["pm"])
        instance = record_starts.start_for(session, spec, record, people["pm"])
        session.commit()
    assert instance is not None
    return instance


def open_task(instance: FlowInstance, step: str) -> Task:
    """Return the instance's open task of a step."""
    (task,) = [t for t in instance.tasks if t.state == "open" and t.step_id == step]
    return task


def finish(session: Session, task: Task, moment: datetime, form: dict[str, object]) -> None:
    """Complete a task as its assignee at a moment."""
    with clock.frozen(moment):
        runtime.complete_task(session, task.id, task.assignee, form)
        session.commit()


def stages(session: Session, instance: FlowInstance, done: dict[str, str]) -> None:
    """Complete the order's stages in turn at the given Shanghai times."""
    for step, moment in done.items():
        finish(session, open_task(instance, step), at(moment), {"reference": f"{step}-1"})


def exception_of(session: Session, instance: FlowInstance) -> FlowInstance:
    """Return the receivable exception started for a late stage of an order."""
    (child,) = session.scalars(select(FlowInstance).where(FlowInstance.parent_id == instance.id))
    return child


def exception_record(session: Session, number: str) -> Record:
    """Return the receivable exception record of an order number."""
    (record,) = [r for r in session.scalars(select(Record).where(
        Record.form_key == "receivable_exception")) if r.data["order_number"] == number]
    return record


def rows(session: Session, people: dict[str, User], key: str) -> list[dict[str, object]]:
    """Run a shipped report as the leader and return its rows."""
    result = run_report(session, report(session, key, people["leader"]), "en", str)
    keys = [column.key for column in result.columns]
    return [dict(zip(keys, row, strict=True)) for row in result.rows]


def test_the_definitions_load_without_findings(session, people):
    for name in ("order_to_cash", "receivable_exception"):
        source = (ROOT / "definitions" / "flows" / f"{name}.bpmn").read_bytes()
        assert lint.findings(session, source, f"{name}.bpmn") == []
    content = runtime.catalog.current(session, "flow", "order_to_cash").content
    assert content["start_form"] == "order_start"
    causes = json.loads((ROOT / "definitions" / "taxonomies" / "causes.json").read_text())
    codes = json.dumps(causes, ensure_ascii=False)
    assert "internal.mechanism.collection_follow_up" in codes
    assert "客户资金紧张" in codes


def test_every_stage_has_an_owner_a_form_and_a_due_time_in_working_days(session, people,
                                                                         worker):
    instance = place(session, people, "SO-1", 100000, at("2026-03-02T10:00"))  # a Monday
    assert instance.data["order"] > 0 and instance.title.startswith("#")
    delivery = open_task(instance, "delivery")
    assert delivery.assignee.username == "engineer1" and delivery.form_key == "order_step"
    assert delivery.due_at.astimezone(SHANGHAI) == at("2026-03-09T10:00")  # P5D
    stages(session, instance, {"delivery": "2026-03-03T10:00",
                               "confirmation": "2026-03-04T10:00",
                               "billing": "2026-03-05T10:00",
                               "reconciliation": "2026-03-06T10:00"})
    invoicing = open_task(instance, "invoicing")
    assert invoicing.assignee.username == "pm"
    assert invoicing.due_at.astimezone(SHANGHAI) == at("2026-03-10T10:00")  # P2D over a weekend
    stages(session, instance, {"invoicing": "2026-03-09T10:00", "acceptance": "2026-03-10T10:00",
                               "payment": "2026-03-11T10:00"})
    assert instance.status == "running"  # the order is marked paid by the worker
    worker(at("2026-03-11T10:01"))
    session.expire_all()
    assert instance.status == "completed"
    assert session.get(Record, instance.data["order"]).data["status"] == "paid"
    assert session.scalar(select(func.count()).select_from(FlowInstance).where(
        FlowInstance.parent_id == instance.id)) == 0


def test_a_late_stage_raises_an_exception_classified_dispatched_escalated_and_reported(
        session, people, worker):
    on_time = place(session, people, "SO-A", 100000, at("2026-03-02T10:00"))
    late_billing = place(session, people, "SO-B", 250000, at("2026-03-02T10:00"))
    late_invoicing = place(session, people, "SO-C", 80000, at("2026-03-02T10:00"))
    stages(session, on_time, {"delivery": "2026-03-03T10:00", "confirmation": "2026-03-04T10:00",
                              "billing": "2026-03-05T10:00", "reconciliation": "2026-03-06T10:00",
                              "invoicing": "2026-03-09T10:00", "acceptance": "2026-03-10T10:00",
                              "payment": "2026-03-11T10:00"})
    stages(session, late_billing, {"delivery": "2026-03-03T10:00",
                                   "confirmation": "2026-03-04T10:00"})
    stages(session, late_invoicing, {"delivery": "2026-03-03T10:00",
                                     "confirmation": "2026-03-04T10:00",
                                     "billing": "2026-03-05T10:00",
                                     "reconciliation": "2026-03-06T10:00"})

    # Billing of SO-B was due Monday 10:00: at 11:00 the worker raises the exception.
    worker(at("2026-03-09T11:00"))
    worker(at("2026-03-09T11:00"))  # the next round records it and opens the classification
    session.expire_all()
    first = exception_of(session, late_billing)
    assert first.started_by.username == "engineer2"
    assert first.data["stage"] == "billing" and first.data["amount"] == 250000
    record = exception_record(session, "SO-B")
    assert record.data["owner"] == "engineer2" and "cause" not in record.data
    classify = open_task(first, "classify")
    assert classify.assignee.username == "engineer2"
    assert classify.due_at.astimezone(SHANGHAI) == at("2026-03-10T11:00")  # one working day
    assert open_task(late_billing, "billing").state == "open"  # the stage stays open

    # engineer2 dispatches it to engineer1 in one go; the timeline says who, to whom and why.
    with clock.frozen(at("2026-03-09T15:00")):
        actions.transfer(session, classify.id, people["engineer2"], people["engineer1"],
                         "The shipment data is his")
        session.commit()
    kinds = [(e.kind, e.detail.get("to")) for e in history(session, "instance", first.id)]
    assert ("task.transferred", "李雷 Li Lei") in kinds
    finish(session, open_task(late_billing, "billing"), at("2026-03-10T10:00"), {})

    # Not located within the day: the leaders hear of it (and SO-C's invoicing is late).
    worker(at("2026-03-10T12:00"))
    worker(at("2026-03-10T12:01"))
    session.expire_all()
    told = session.scalars(select(Notification).where(
        Notification.user_id == people["leader"].id, Notification.kind == "escalation"))
    assert [n.task_id for n in told] == [classify.id]
    finish(session, open_task(first, "classify"), at("2026-03-10T14:00"),
           {"cause": "internal.mechanism.billing_late", "finding": "Statement sent late",
            "owner": "engineer1"})
    second = exception_of(session, late_invoicing)
    assert second.started_by.username == "pm" and second.data["stage"] == "invoicing"
    finish(session, open_task(second, "classify"), at("2026-03-10T15:00"),
           {"cause": "external.system.invoicing_rules", "finding": "Tax bureau quota",
            "owner": "pm"})
    worker(at("2026-03-10T15:01"))
    session.expire_all()
    record = exception_record(session, "SO-B")
    assert record.data["cause"] == "internal.mechanism.billing_late"
    assert datetime.fromisoformat(record.data["located_at"]) == at("2026-03-10T14:00")
    resolve = open_task(first, "resolve")
    assert resolve.assignee.username == "engineer1"
    finish(session, resolve, at("2026-03-12T10:00"), {"resolution": "Statement re-sent"})
    finish(session, open_task(late_invoicing, "invoicing"), at("2026-03-11T10:00"), {})
    stages(session, late_billing, {"reconciliation": "2026-03-11T10:00",
                                   "invoicing": "2026-03-12T10:00"})
    worker(at("2026-03-13T16:00"))  # SO-C's resolution is late: escalated again
    finish(session, open_task(second, "resolve"), at("2026-03-16T10:00"),
           {"resolution": "Invoiced after the quota was raised"})
    worker(at("2026-03-16T10:01"))
    session.expire_all()
    record = exception_record(session, "SO-B")
    assert record.data["resolution"] == "Statement re-sent"
    assert datetime.fromisoformat(record.data["resolved_at"]) == at("2026-03-12T10:00")
    assert first.status == "completed" and second.status == "completed"
    assert on_time.status == "completed"

    with clock.frozen(at("2026-03-20T10:00")):
        invoicing = rows(session, people, "receivables_timely_invoicing")
        located = rows(session, people, "receivables_located_rate")
        resolved = rows(session, people, "receivables_timely_resolution")
        by_cause = rows(session, people, "receivables_overdue_by_cause")
    assert [(r["completed_at_month"], r["rate"], r["completed"]) for r in invoicing] == [
        ("2026-03", pytest.approx(2 / 3), 3)]
    assert [(r["rate"], r["completed"], r["open_late"]) for r in located] == [(0.5, 2, 0)]
    assert [(r["rate"], r["completed"]) for r in resolved] == [(0.5, 2)]
    assert [(r["cause"], r["amount"], r["exceptions"]) for r in by_cause] == [
        ("internal.mechanism.billing_late", 250000, 1),
        ("external.system.invoicing_rules", 80000, 1)]


def test_an_exception_belongs_to_the_project_of_its_order(session, people, worker):
    with clock.frozen(at("2026-03-01T10:00")):
        project = create_record(session, "project", projects(date(2026, 3, 1))[0], people["pm"])
    late = place(session, people, "SO-P", 90000, at("2026-03-02T10:00"), project.id)
    worker(at("2026-03-09T11:00"))  # its delivery was due days ago: the exception starts
    worker(at("2026-03-09T11:00"))  # and is recorded
    session.expire_all()
    assert exception_of(session, late).project == late.project == str(project.id)
    assert exception_record(session, "SO-P").data["project"] == project.id


def test_the_escalation_action_start_names_a_loaded_flow(session, people):
    timing = deadlines.parse_timing({"deadline": "P1D",
                                     "escalation": "PT0S start receivable_exception"})
    assert timing.escalation[0].action == "start"
    with pytest.raises(ValueError, match="start needs the key of a flow"):
        deadlines.parse_timing({"deadline": "P1D", "escalation": "PT0S start Not A Flow"})
    source = (ROOT / "definitions" / "flows" / "order_to_cash.bpmn").read_text()
    source = source.replace("start receivable_exception", "start debt_collection", 1)
    found = lint.findings(session, source.encode(), "order_to_cash.bpmn")
    assert [(f.element_id, f.severity, f.message.render()) for f in found] == [
        ("delivery", "error", "escalates by starting the flow 'debt_collection', which is not "
                              "loaded")]


def test_imported_orders_start_their_flow_and_a_row_that_cannot_start_refuses_all(
        session, people):
    spec = FormSpec(**runtime.catalog.current(session, "form", "order").content)
    good = [order("SO-10", 1000), order("SO-11", 2000)]
    ids = save_rows(session, "order", good, people["pm"], "orders.xlsx")
    records = list(session.scalars(select(Record).where(Record.id.in_(ids))))
    started = record_starts.start_all(session, spec, list(zip([2, 3], records, strict=True)),
                                      people["pm"])
    assert sorted(i.data["order_number"] for i in started) == ["SO-10", "SO-11"]
    assert {i.data["order"] for i in started} == set(ids)
    session.commit()

    # An administrator makes the project required at the start: rows without one are refused.
    start = json.loads((ROOT / "definitions" / "forms" / "order_start.json").read_text())
    start["schema"]["required"].append("project")
    deploy_form(session, json.dumps(start), "order_start.json", None)
    deploy_flow(session, (ROOT / "definitions" / "flows" / "order_to_cash.bpmn").read_bytes(),
                "order_to_cash.bpmn", None, {})
    session.commit()
    assert [set(e) for e in record_starts.check_rows(session, spec, good, people["pm"])] == [
        {"project"}, {"project"}]
    ids = save_rows(session, "order", [order("SO-12", 3000)], people["pm"], "orders.xlsx")
    (record,) = session.scalars(select(Record).where(Record.id.in_(ids)))
    with pytest.raises(record_starts.RowNotStarted) as refused:
        record_starts.start_all(session, spec, [(7, record)], people["pm"])
    assert (refused.value.row, refused.value.field) == (7, "project")
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Record).where(
        Record.form_key == "order")) == 2


def test_the_demo_story_leaves_a_history_of_orders_and_classified_exceptions(
        session, people, monkeypatch):
    import random

    from andon.demo_history import receivables

    monkeypatch.setattr(receivables, "ORDERS", 12)
    monkeypatch.setattr(receivables, "LATE", dict.fromkeys(receivables.STAGES, 0.2))
    until = at("2026-11-20T10:00")
    started = receivables.seed(session, people, [], random.Random(3), until)
    session.commit()
    instances = list(session.scalars(select(FlowInstance)))
    assert started == len(instances) > 12
    exceptions = [r.data for r in session.scalars(select(Record).where(
        Record.form_key == "receivable_exception"))]
    assert exceptions and len(exceptions) == started - 12
    located = [e for e in exceptions if "cause" in e]
    assert located and all(datetime.fromisoformat(e["located_at"]) <= until for e in located)
    assert max(t.completed_at for i in instances for t in i.tasks if t.completed_at) <= until
