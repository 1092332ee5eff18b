"""Messages reach the instances waiting for them: from outside, from other instances, once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from andon import clock
from andon.audit import history
from andon.errors import InvalidDefinition, NotFound
from andon.expressions import ExpressionError
from andon.flows import actions, messages, runtime
from andon.flows.bpmn import load_bpmn
from andon.flows.deploy import deploy_flow
from andon.flows.models import FlowInstance, MessageWait
from andon.flows.worker import run_due
from andon.jobs import WorkItem

DATA = Path(__file__).parent.parent / "data" / "messages"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
REQUEST = {"title": "T", "project": "P1", "reason": "R", "effort_days": "3",
           "customer_contact": "Liu Yang"}


def states(instance: FlowInstance) -> dict[str, list[str]]:
    """Map each step of an instance to the states of its task rows."""
    rows: dict[str, list[str]] = {}
    for task in sorted(instance.tasks, key=lambda t: t.id):
        rows.setdefault(task.step_id, []).append(task.state)
    return rows


def waits_of(session, instance: FlowInstance) -> list[tuple[str, str, dict]]:
    """Return what an instance waits for: (message, step, correlation)."""
    rows = session.scalars(select(MessageWait).where(MessageWait.instance_id == instance.id)
                           .order_by(MessageWait.step_id))
    return [(row.name, row.step_id, row.correlation) for row in rows]


@pytest.fixture
def start(session, people):
    """Deploy a flow of tests/data/messages and return a starter of instances at T0."""
    def started(file: str, flow: str, who: str = "engineer1", **changes) -> FlowInstance:
        with clock.frozen(T0):
            deploy_flow(session, (DATA / file).read_bytes(), file)
            instance = runtime.start_instance(session, flow, people[who],
                                              {**REQUEST, **changes})
        session.commit()
        return instance
    return started


def deliver(session, name: str, correlation: dict, payload: dict | None = None) -> list[int]:
    """Deliver a message at T0 + 1 hour and commit."""
    with clock.frozen(T0 + timedelta(hours=1)):
        delivered = messages.deliver(session, name, payload or {}, correlation)
    session.commit()
    return delivered


def test_a_waiting_instance_is_listed_with_its_correlation(session, start):
    instance = start("contract.bpmn", "contract")
    assert waits_of(session, instance) == [("contract_signed", "wait_signature",
                                            {"project_id": "P1"})]
    assert states(instance) == {"submit": ["completed"]}


def test_the_message_moves_the_instance_on_with_its_payload(session, start, people):
    instance = start("contract.bpmn", "contract")
    assert deliver(session, "contract_signed", {"project_id": "P1"},
                   {"signed_by": "Liu Yang"}) == [instance.id]
    session.refresh(instance)
    assert states(instance) == {"submit": ["completed"], "apply": ["open"]}
    assert instance.data["contract"] == {"signed_by": "Liu Yang"}
    assert waits_of(session, instance) == []
    [event] = [e for e in history(session, "instance", instance.id)
               if e.kind == "message.received"]
    assert event.detail["message"] == "contract_signed"
    assert event.detail["correlation"] == {"project_id": "P1"}


def test_only_the_instance_with_the_same_correlation_gets_it(session, start):
    first = start("contract.bpmn", "contract", project="P1")
    second = start("contract.bpmn", "contract", project="P2")
    assert deliver(session, "contract_signed", {"project_id": "P2"}) == [second.id]
    session.refresh(first)
    assert states(first) == {"submit": ["completed"]}
    assert waits_of(session, first) != []


def test_a_message_nobody_waits_for_is_refused_by_name(session, start):
    instance = start("contract.bpmn", "contract")
    with pytest.raises(NotFound) as refused:
        messages.deliver(session, "contract_signed", {}, {"project_id": "P9"})
    assert "contract_signed" in str(refused.value)
    with pytest.raises(NotFound):
        messages.deliver(session, "contract_signed", {}, {})  # a correlation must match fully
    session.rollback()
    assert waits_of(session, instance) != []


def test_a_withdrawn_instance_waits_for_nothing(session, start, people):
    instance = start("contract.bpmn", "contract")
    actions.withdraw(session, instance, people["engineer1"], "no longer needed")
    session.commit()
    with pytest.raises(NotFound):
        messages.deliver(session, "contract_signed", {}, {"project_id": "P1"})


def test_a_thrown_message_is_delivered_once_by_the_worker(session, start, worker):
    receiver = start("contract.bpmn", "contract")
    sender = start("sender.bpmn", "signing", customer_contact="Sun Wei")
    items = list(session.scalars(select(WorkItem).where(WorkItem.kind == "message")
                                 .order_by(WorkItem.id)))
    assert [item.payload["name"] for item in items] == ["contract_signed", "signing_closed"]
    assert items[0].payload["correlation"] == {"project_id": "P1"}
    assert sender.status == "completed" and receiver.tasks[-1].step_id == "submit"
    worker(T0 + timedelta(minutes=1))
    session.expire_all()
    assert states(receiver) == {"submit": ["completed"], "apply": ["open"]}
    assert receiver.data["contract"] == {"signed_by": "Sun Wei"}
    assert [i.state for i in items] == ["done", "pending"]  # nobody waits for signing_closed
    assert "No running flow is waiting for the message signing_closed" in items[1].last_error
    worker(T0 + timedelta(minutes=2))
    session.expire_all()
    assert states(receiver) == {"submit": ["completed"], "apply": ["open"]}
    kinds = [e.kind for e in history(session, "instance", sender.id)]
    assert kinds.count("message.sent") == 2


def test_a_non_interrupting_boundary_message_opens_a_step_beside_the_task(session, start):
    instance = start("boundary.bpmn", "noted_review")
    assert [w[1] for w in waits_of(session, instance)] == ["note_arrived", "withdrawn_now"]
    deliver(session, "customer_note", {"project_id": "P1"}, {"text": "call me"})
    session.refresh(instance)
    assert states(instance) == {"submit": ["completed"], "review": ["open"],
                                "read_note": ["open"]}
    assert instance.data["note"] == {"text": "call me"}
    # SpiffWorkflow 3.2 catches a non-interrupting boundary message once per task
    assert [w[1] for w in waits_of(session, instance)] == ["withdrawn_now"]
    with pytest.raises(NotFound):
        messages.deliver(session, "customer_note", {}, {"project_id": "P1"})


def test_an_interrupting_boundary_message_cancels_the_task(session, start):
    instance = start("boundary.bpmn", "noted_review")
    deliver(session, "request_withdrawn", {"project_id": "P1"})
    session.refresh(instance)
    assert states(instance) == {"submit": ["completed"], "review": ["cancelled"]}
    assert instance.status == "completed"
    assert instance.outcome["en"] == "Withdrawn by the customer"
    assert waits_of(session, instance) == []


def test_a_boundary_message_on_a_subprocess_stops_it(session, start, people):
    instance = start("boundary.bpmn", "noted_review")
    [review] = [t for t in instance.tasks if t.state == "open"]
    runtime.complete_task(session, review.id, people["pm"], {"decision": "approve"})
    session.commit()
    assert [w[1] for w in waits_of(session, instance)] == ["assessment_stopped"]
    deliver(session, "assessment_cancelled", {"project_id": "P1"})
    session.refresh(instance)
    assert states(instance)["assess"] == ["cancelled"]
    assert instance.outcome["en"] == "Assessment cancelled"


def test_the_event_gateway_takes_the_first_message(session, start):
    instance = start("gateway.bpmn", "first_answer")
    assert [w[:2] for w in waits_of(session, instance)] == [
        ("customer_approved", "on_approval"), ("customer_rejected", "on_rejection")]
    assert instance.wake_at == T0 + timedelta(days=1)
    deliver(session, "customer_rejected", {"project_id": "P1"})
    session.refresh(instance)
    assert instance.outcome["en"] == "Dropped" and waits_of(session, instance) == []
    with pytest.raises(NotFound):
        messages.deliver(session, "customer_approved", {}, {"project_id": "P1"})


def test_the_event_gateway_takes_the_other_message(session, start):
    instance = start("gateway.bpmn", "first_answer")
    deliver(session, "customer_approved", {"project_id": "P1"})
    session.refresh(instance)
    assert states(instance) == {"submit": ["completed"], "apply": ["open"]}
    assert instance.wake_at is None


def test_the_event_gateway_timer_wins_when_no_message_comes(session, start):
    instance = start("gateway.bpmn", "first_answer")
    with clock.frozen(T0 + timedelta(hours=23)):
        assert run_due(session, T0 + timedelta(hours=23)) == 0
    with clock.frozen(T0 + timedelta(days=1, seconds=1)):
        assert run_due(session, T0 + timedelta(days=1, seconds=1)) == 1
    session.commit()
    session.refresh(instance)
    assert states(instance) == {"submit": ["completed"], "chase": ["open"]}
    assert waits_of(session, instance) == []


def test_a_late_message_loses_to_a_timer_that_was_already_due(session, start):
    instance = start("gateway.bpmn", "first_answer")
    with clock.frozen(T0 + timedelta(days=2)), pytest.raises(NotFound):
        messages.deliver(session, "customer_approved", {}, {"project_id": "P1"})
    session.refresh(instance)
    assert states(instance)["chase"] == ["open"] and "apply" not in states(instance)


@pytest.mark.parametrize(("correlation", "payload"), [
    ({"project_id": {"nested": 1}}, {}), ({"project_id": "P1"}, ["not", "an", "object"])])
def test_malformed_messages_are_refused(session, start, correlation, payload):
    start("contract.bpmn", "contract")
    with pytest.raises(messages.InvalidMessage):
        messages.deliver(session, "contract_signed", payload, correlation)


def edited(file: str, old: str, new: str) -> bytes:
    """Return a test flow with one piece of text replaced."""
    text = (DATA / file).read_text()
    assert old in text, old
    return text.replace(old, new).encode()


TIMER = '<bpmn:timerEventDefinition><bpmn:timeDuration>"PT1H"</bpmn:timeDuration>' \
        '</bpmn:timerEventDefinition>'


@pytest.mark.parametrize(("file", "old", "new", "where", "complaint"), [
    ("gateway.bpmn", '<bpmn:messageEventDefinition messageRef="rejected"/>', TIMER, "answer",
     "at most one timer"),
    ("gateway.bpmn", 'sourceRef="answer" targetRef="on_approval"',
     'sourceRef="answer" targetRef="apply"', "answer", "two or more intermediate catch events"),
    ("boundary.bpmn", 'id="withdrawn_now" attachedToRef="review"',
     'id="withdrawn_now" attachedToRef="end"', "withdrawn_now",
     "a message on a user or manual task or a subprocess"),
    ("contract.bpmn", 'value="project_id=project"', 'value="project_id project"',
     "wait_signature", "is not name=expression"),
    ("contract.bpmn", 'value="project_id=project"', "value=\"project_id=__import__('os')\"",
     "wait_signature", "__import__"),
    ("contract.bpmn", 'messageRef="signed"', 'messageRef="nowhere"', "wait_signature",
     "must name a bpmn:message"),
    ("contract.bpmn", '<bpmn:message id="signed" name="contract_signed"/>',
     '<bpmn:message id="signed" name="contract_signed"><bpmn:extensionElements>'
     '<spiff:messageVariable>x</spiff:messageVariable></bpmn:extensionElements></bpmn:message>',
     "wait_signature", "inside the messageEventDefinition"),
    ("contract.bpmn", "<spiff:messageVariable>contract</spiff:messageVariable>",
     "<spiff:processVariableCorrelation><spiff:propertyId>p</spiff:propertyId>"
     "<spiff:expression>project</spiff:expression></spiff:processVariableCorrelation>",
     "wait_signature", "with the 'correlation' property"),
    ("sender.bpmn", '<bpmn:messageEventDefinition messageRef="closed"/>', "", "end", ""),
    ("sender.bpmn", '<bpmn:messageEventDefinition messageRef="closed"/>',
     "<bpmn:signalEventDefinition/>", "end", "signalEventDefinition in endEvent is not supported"),
    ("contract.bpmn", '<bpmn:startEvent id="start"/>',
     '<bpmn:startEvent id="start"><bpmn:messageEventDefinition messageRef="signed"/>'
     "</bpmn:startEvent>", "start", "messageEventDefinition in startEvent is not supported"),
])
def test_message_events_outside_the_subset_are_refused(file, old, new, where, complaint):
    xml = edited(file, old, new)
    if not complaint:  # a plain end event is fine: the control case
        assert load_bpmn(xml, "f.bpmn").process_id == "signing"
        return
    with pytest.raises(InvalidDefinition) as refused:
        load_bpmn(xml, "f.bpmn")
    assert any(w == f"f.bpmn: {where}" and complaint in m for w, m in refused.value.problems), \
        refused.value.problems


def test_an_intermediate_throw_event_must_send_a_message():
    xml = edited("sender.bpmn", '<bpmn:messageEventDefinition messageRef="signed">',
                 "<bpmn:documentation>").replace(b"</bpmn:messageEventDefinition>\n    </bpmn:"
                                                 b"intermediateThrowEvent>",
                                                 b"</bpmn:documentation></bpmn:"
                                                 b"intermediateThrowEvent>")
    with pytest.raises(InvalidDefinition) as refused:
        load_bpmn(xml, "f.bpmn")
    assert ("f.bpmn: tell_signed", "An intermediate throw event must send a message") in \
        refused.value.problems


def test_a_correlation_the_data_cannot_fill_is_refused_naming_the_step(session, people):
    xml = edited("contract.bpmn", 'value="project_id=project"', 'value="project_id=contract_no"')
    deploy_flow(session, xml, "contract.bpmn")
    with pytest.raises(ExpressionError) as refused:
        runtime.start_instance(session, "contract", people["engineer1"], REQUEST)
    assert "wait_signature" in str(refused.value) and "contract_no" in str(refused.value)
