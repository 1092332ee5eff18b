"""The retrospective's task page: the cause picker in the cases table and its errors."""

from __future__ import annotations

import html
import re

from andon.flows import runtime
from andon.flows.models import FlowInstance, Task
from andon.forms.records import create_record

PROJECT = {"name": "Grid dispatch platform", "code": "PRJ-2026-031", "client": "East China Grid",
           "contract_value": 2400000, "project_manager": "pm", "delivery_director": "director"}
HOLD = {"went_well": "Signed in one round", "went_wrong": "Late environment",
        "goals[#]": "1", "goals[0][goal]": "Go live", "goals[0][met]": "no",
        "cases[#]": "1", "cases[0][description]": "Environment late",
        "actions[#]": "1", "actions[0][what]": "Weekly environment check",
        "actions[0][owner]": "engineer2", "actions[0][due_date]": "2026-06-05",
        "actions[0][outcome]": "No test day lost"}


def text(response) -> str:
    """Return a response's HTML with entities decoded."""
    return html.unescape(response.get_data(as_text=True))


def hold_task(session, people) -> Task:
    """Start a retrospective as the pm; return its open 'Hold the retrospective' task."""
    record = create_record(session, "project", PROJECT, people["pm"])
    instance = runtime.start_instance(session, "retrospective", people["pm"], {
        "title": "Grid retrospective", "project": str(record.id),
        "delivery_director": "director"})
    session.commit()
    (task,) = [t for t in instance.tasks if t.state == "open"]
    return task


def test_a_case_cause_is_picked_from_the_taxonomy_and_a_wrong_one_is_named(
        auth, client, session, people):
    task = hold_task(session, people)
    auth.login("pm")
    page = text(client.get(f"/tasks/{task.id}"))
    assert "Goals against results" in page and "Action items" in page
    wrong = auth.post(f"/tasks/{task.id}", {**HOLD, "cases[0][cause]": "internal.nonsense"})
    assert wrong.status_code == 422
    shown = text(wrong)
    assert re.search(r'name="cases\[0\]\[cause\]"[^>]*data-taxonomy="causes"', shown)
    assert "<optgroup label=\"Internal › Mechanism\">" in shown
    assert "internal.nonsense is not in the list" in shown
    assert "Environment late" in shown  # what was typed is kept
    done = auth.post(f"/tasks/{task.id}",
                     {**HOLD, "cases[0][cause]": "external.mechanism.customer_environment"})
    assert done.status_code in (200, 302, 303)
    session.expire_all()
    instance = session.get(FlowInstance, task.instance_id)
    assert instance.data["cases"][0]["cause"] == "external.mechanism.customer_environment"
    page = text(client.get(f"/instances/{instance.id}"))
    assert "External › Mechanism › Customer environment, data or access not ready" in page
