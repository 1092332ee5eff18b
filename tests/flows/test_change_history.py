"""The change approval's demo history and its report: changes made through the runtime."""

from __future__ import annotations

import json
import random
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from andon.audit import AuditEvent
from andon.demo_history import change_requests
from andon.flows.models import FlowInstance, Task
from andon.forms.models import Record
from andon.forms.records import create_record
from andon.reports.compiler import Scope, run_report
from andon.reports.definition import check_definition

ROOT = Path(__file__).resolve().parent.parent.parent
UNTIL = datetime(2026, 3, 2, 18, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def projects(session, people, count: int = 12) -> list[Record]:
    """Create projects spread over the 18 months before UNTIL."""
    made = []
    for number in range(count):
        start = UNTIL.date() - timedelta(days=540 - 12 * number)
        made.append(create_record(session, "project", {
            "name": f"项目 Project {number}", "code": f"PRJ-{number:03d}", "client": "客户 Client",
            "status": "active", "project_manager": "pm", "delivery_director": "director",
            "start_date": start.isoformat(),
            "end_date": (start + timedelta(days=300)).isoformat(),
            "contract_value": 1000000, "budget_amount": 600000,
            "effort": [{"role": "开发 Developer", "budget_days": 300}],
            "team": [{"member": "engineer1", "role": "Tech lead", "allocation": 100}]},
            people["admin"]))
    session.flush()
    return made


def test_the_history_has_approved_rejected_late_and_open_changes(session, people, tmp_path,
                                                                  monkeypatch):
    monkeypatch.setenv("ANDON_UPLOAD_FOLDER", str(tmp_path))
    made = projects(session, people)
    started = change_requests.seed(session, people, made, random.Random(7), UNTIL)
    session.commit()
    instances = list(session.scalars(select(FlowInstance)))
    assert started == len(instances) >= 6
    assert all(i.started_at <= UNTIL for i in instances)
    assert all(t.completed_at is None or t.completed_at <= UNTIL
               for t in session.scalars(select(Task)))
    kept = list(session.scalars(select(Record).where(Record.form_key == "project_change")))
    assert {r.data["status"] for r in kept} == {"approved", "rejected"}
    assert sum(1 for i in instances if i.status == "completed") == len(kept)
    grown = [r for r in made if r.data["budget_amount"] > 600000]
    assert grown and all(len(r.data["effort"]) > 1 for r in grown)
    escalated = session.scalars(select(AuditEvent).where(AuditEvent.kind == "task.escalated"))
    assert len(list(escalated)) >= 1
    assert any(date.fromisoformat(r.data["decided_on"]) <= UNTIL.date() for r in kept)

    body = json.loads((ROOT / "definitions/reports/change_requests_by_project.json").read_text())
    result = run_report(session, check_definition(body, "r.json", session), "en", str, Scope())
    keys = [column.key for column in result.columns]
    by_code = {row["project_code"]: row for row in (dict(zip(keys, values, strict=True))
                                                    for values in result.rows)}
    assert by_code
    assert sum(row["changes"] for row in by_code.values()) == len(kept)
    assert all(row["approved_days"] <= row["requested_days"] for row in by_code.values())


def test_a_change_the_project_cannot_take_fails_alone_with_its_incident(
        session, people, tmp_path, monkeypatch):
    monkeypatch.setenv("ANDON_UPLOAD_FOLDER", str(tmp_path))
    made = projects(session, people)
    for record in made:  # no room for another effort row: the form allows 30
        record.data = {**record.data, "effort": [{"role": f"R{n}", "budget_days": 1}
                                                 for n in range(30)]}
    session.flush()
    started = change_requests.seed(session, people, made, random.Random(7), UNTIL)
    session.commit()
    statuses = [i.status for i in session.scalars(select(FlowInstance))]
    assert len(statuses) == started and "failed" in statuses and "completed" in statuses
    failures = session.scalars(select(AuditEvent).where(AuditEvent.kind == "service.failed"))
    assert all("effort" in str(event.detail["error"]) for event in failures)
