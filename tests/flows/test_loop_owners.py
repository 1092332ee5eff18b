"""Multi-instance user tasks whose owner comes from the loop item: one person per task."""

from __future__ import annotations

from pathlib import Path

import pytest

from andon.errors import Forbidden
from andon.flows import runtime
from andon.flows.deploy import deploy_flow
from andon.flows.models import FlowInstance, Task

DATA = Path(__file__).resolve().parent.parent / "data" / "multi_instance" / "per_item_owner.bpmn"
REQUEST = {"title": "Export", "project": "P", "reason": "R", "effort_days": "3",
           "customer_contact": "director"}
ANY_ONE = ('<bpmn:outputDataItem id="decision" name="decision"/>',
           '<bpmn:outputDataItem id="decision" name="decision"/>'
           '<bpmn:completionCondition>decision == "approve"</bpmn:completionCondition>')


def panel(session, people, *edits: tuple[str, str]) -> FlowInstance:
    """Deploy the panel review (after edits) and start it as engineer1."""
    source = DATA.read_text()
    for old, new in edits:
        source = source.replace(old, new)
    deploy_flow(session, source.encode(), "panel.bpmn")
    instance = runtime.start_instance(session, "panel_review", people["engineer1"], REQUEST)
    session.commit()
    return instance


def open_reviews(instance: FlowInstance) -> dict[str, Task]:
    """Return the open review tasks by their assignee's user name."""
    return {t.assignee.username: t for t in instance.tasks if t.state == "open" and t.assignee}


def test_each_loop_task_belongs_to_the_person_its_item_names(session, people):
    instance = panel(session, people)
    reviews = open_reviews(instance)
    assert set(reviews) == {"pm", "director"}
    with pytest.raises(Forbidden):  # the pm cannot answer the director's part
        runtime.complete_task(session, reviews["director"].id, people["pm"],
                              {"decision": "approve"})


def test_all_must_approve_with_per_item_owners(session, people):
    instance = panel(session, people)
    reviews = open_reviews(instance)
    runtime.complete_task(session, reviews["pm"].id, people["pm"], {"decision": "approve"})
    assert instance.status == "running" and set(open_reviews(instance)) == {"director"}
    runtime.complete_task(session, reviews["director"].id, people["director"],
                          {"decision": "reject"})
    assert instance.status == "completed" and instance.outcome["en"] == "Rejected"


def test_any_one_approves_with_per_item_owners(session, people):
    instance = panel(session, people, ANY_ONE, ('"reject" not in decisions',
                                                '"approve" in decisions'))
    reviews = open_reviews(instance)
    runtime.complete_task(session, reviews["director"].id, people["director"],
                          {"decision": "approve"})
    assert instance.status == "completed" and instance.outcome["en"] == "Approved"
    assert reviews["pm"].state == "cancelled"


def test_a_plain_field_names_the_item_itself(session, people):
    instance = panel(session, people,
                     ('[{"user": "pm", "area": "scope"}, {"user": customer_contact, '
                      '"area": "cost"}]', '["pm", customer_contact]'),
                     ('field:reviewer.user', 'field:reviewer'))
    assert set(open_reviews(instance)) == {"pm", "director"}


def test_a_sequential_loop_asks_each_item_owner_in_turn(session, people):
    instance = panel(session, people, ('isSequential="false"', 'isSequential="true"'))
    assert set(open_reviews(instance)) == {"pm"}
    runtime.complete_task(session, open_reviews(instance)["pm"].id, people["pm"],
                          {"decision": "approve"})
    assert set(open_reviews(instance)) == {"director"}
