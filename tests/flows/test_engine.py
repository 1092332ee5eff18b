"""The engine runs a flow through its human steps and survives save and restore."""

import json
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import pytest
from SpiffWorkflow.spiff.parser import SpiffBpmnParser

from andon.expressions import ExpressionError
from andon.flows.bpmn import load_bpmn
from andon.flows.engine import Engine, TaskNotReady, spec_to_json

APPROVAL = (Path(__file__).parent.parent / "data" / "approval" / "approval.bpmn").read_bytes()


@pytest.fixture
def engine():
    return Engine()


@pytest.fixture
def spec_json():
    return load_bpmn(APPROVAL, "approval.bpmn").spec_json


def unchecked_spec(old: str, new: str) -> str:
    """Build a spec from an edited approval file, bypassing load_bpmn's checks."""
    text = APPROVAL.decode()
    assert old in text
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(text.replace(old, new).encode(), "approval.bpmn")
    return spec_to_json(parser.get_spec("change_approval"),
                        parser.get_subprocess_specs("change_approval"))


def step(engine, spec_json, workflow, data):
    """Save and restore the instance, then complete its only ready task with ``data``."""
    state = engine.dump(workflow)
    workflow = engine.restore(spec_json, state)
    [task] = engine.ready_tasks(workflow)
    engine.complete(workflow, task.id, data)
    return workflow, task


def run_through(engine, spec_json, *answers):
    """Start an instance and answer its tasks in turn; return the workflow and steps seen."""
    workflow, seen = engine.start(spec_json), []
    for data in answers:
        workflow, task = step(engine, spec_json, workflow, data)
        seen.append(task.step_id)
    return engine.restore(spec_json, engine.dump(workflow)), seen


def test_first_task_carries_lane_and_properties(engine, spec_json):
    workflow = engine.start(spec_json)
    [task] = engine.ready_tasks(workflow)
    assert (task.step_id, task.step_name, task.lane) == ("submit", "Describe the change",
                                                          "Requester")
    assert task.kind == "userTask" and task.properties == {"form": "change_request"}
    assert not engine.is_done(workflow)


def test_small_change_skips_the_director(engine, spec_json):
    workflow, seen = run_through(engine, spec_json, {"title": "Swap DNS"},
                                 {"decision": "approve", "effort": 5})
    assert seen == ["submit", "review"]
    assert engine.is_done(workflow)
    assert engine.data(workflow) == {"title": "Swap DNS", "decision": "approve", "effort": 5,
                                     "approved": True, "outcome": "approved"}


def test_large_change_goes_to_the_director(engine, spec_json):
    workflow, seen = run_through(engine, spec_json, {"title": "New DC"},
                                 {"decision": "approve", "effort": 20},
                                 {"decision": "reject"})
    assert seen == ["submit", "review", "director_review"]
    assert engine.is_done(workflow)
    assert engine.data(workflow)["outcome"] == "rejected"


def test_director_task_is_ready_after_restore(engine, spec_json):
    workflow, _ = run_through(engine, spec_json, {}, {"decision": "approve", "effort": 11})
    [task] = engine.ready_tasks(workflow)
    assert task.step_id == "director_review" and task.lane is None
    assert task.properties["owner"] == "role:leader"
    assert engine.data(workflow)["effort"] == 11


def test_dump_holds_state_but_not_the_spec(engine, spec_json):
    state = json.loads(engine.dump(engine.start(spec_json)))
    assert "spec" not in state and "subprocess_specs" not in state
    assert "tasks" in state


def test_data_is_json_serialisable(engine, spec_json):
    workflow, _ = run_through(engine, spec_json, {"title": "T", "tags": ["a"]})
    assert json.loads(json.dumps(engine.data(workflow))) == {"title": "T", "tags": ["a"]}


def test_completing_a_task_that_is_not_ready_fails(engine, spec_json):
    workflow = engine.start(spec_json)
    [task] = engine.ready_tasks(workflow)
    engine.complete(workflow, task.id, {})
    with pytest.raises(TaskNotReady):
        engine.complete(workflow, task.id, {})
    with pytest.raises(TaskNotReady):
        engine.complete(workflow, "not-a-uuid", {})


def test_script_task_cannot_import(engine):
    spec_json = unchecked_spec('outcome = "approved" if approved else "rejected"',
                               'os = __import__("os")')
    workflow, _ = run_through(engine, spec_json, {})
    [task] = engine.ready_tasks(workflow)
    with pytest.raises(ExpressionError, match="__import__") as info:
        engine.complete(workflow, task.id, {"decision": "approve", "effort": 1})
    assert info.value.step == "record"
    assert "os" not in engine.data(workflow)


def test_condition_cannot_escape(engine):
    spec_json = unchecked_spec('decision == "approve" and effort &gt; 10',
                               "().__class__.__base__.__subclasses__()")
    workflow, _ = run_through(engine, spec_json, {})
    [task] = engine.ready_tasks(workflow)
    with pytest.raises(ExpressionError, match="__subclasses__"):
        engine.complete(workflow, task.id, {"decision": "approve", "effort": 11})


def test_condition_on_missing_data_names_it(engine, spec_json):
    workflow, _ = run_through(engine, spec_json, {})
    [task] = engine.ready_tasks(workflow)
    with pytest.raises(ExpressionError, match="Unknown name 'decision'"):
        engine.complete(workflow, task.id, {"effort": 11})


def test_unknown_task_id_is_not_ready(engine, spec_json):
    workflow = engine.start(spec_json)
    with pytest.raises(TaskNotReady):
        engine.complete(workflow, "00000000-0000-4000-8000-000000000000", {})


def test_next_timer_reports_a_pending_timer(engine, spec_json):
    assert engine.next_timer(engine.start(spec_json)) is None
    timer = ('<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition>'
             '<bpmn:timeDuration>"PT1H"</bpmn:timeDuration></bpmn:timerEventDefinition>'
             '</bpmn:intermediateCatchEvent>\n'
             '    <bpmn:sequenceFlow id="flow_wait" sourceRef="wait" targetRef="review"/>\n'
             '    <bpmn:sequenceFlow id="flow_submit" sourceRef="submit" targetRef="wait"/>')
    timed = unchecked_spec('<bpmn:sequenceFlow id="flow_submit" sourceRef="submit" '
                           'targetRef="review"/>', timer)
    workflow, _ = run_through(engine, timed, {})
    due = engine.next_timer(workflow)
    assert due is not None and due.tzinfo is not None
    assert engine.ready_tasks(workflow) == []


DATA = Path(__file__).parent.parent / "data"


def spec_of(case: str, name: str, *edits: tuple[str, str]) -> str:
    """Load tests/data/<case>/<name> through load_bpmn, after text edits."""
    text = (DATA / case / name).read_text()
    for old, new in edits:
        assert old in text
        text = text.replace(old, new)
    return load_bpmn(text.encode(), name).spec_json


def answer(engine, spec_json, workflow, step, data):
    """Restore the instance and complete the first ready task of ``step``."""
    workflow = engine.restore(spec_json, engine.dump(workflow))
    task = next(t for t in engine.ready_tasks(workflow) if t.step_id == step)
    engine.complete(workflow, task.id, data)
    return workflow


def approvals(engine, spec_json, *decisions):
    """Start with three approvers and answer the approve tasks in turn."""
    workflow = answer(engine, spec_json, engine.start(spec_json), "submit",
                      {"approvers": ["ann", "bob", "cy"]})
    assert {t.step_id for t in engine.ready_tasks(workflow)} == {"approve"}
    for decision in decisions:
        workflow = answer(engine, spec_json, workflow, "approve", {"decision": decision})
    return workflow


def ends(engine, workflow):
    """Return the main process's end events reached."""
    return [t.step_id for t in engine.reached_ends(workflow)]


def test_parallel_any_opens_one_task_per_approver(engine):
    spec_json = spec_of("multi_instance", "parallel_any.bpmn")
    workflow = approvals(engine, spec_json)
    tasks = engine.ready_tasks(workflow)
    assert [t.step_id for t in tasks] == ["approve"] * 3
    assert tasks[0].properties["form"] == "change_review"
    items = {workflow.get_task_from_id(UUID(t.id)).data["approver"] for t in tasks}
    assert items == {"ann", "bob", "cy"}


def test_parallel_any_one_approval_closes_the_others(engine):
    spec_json = spec_of("multi_instance", "parallel_any.bpmn")
    workflow = approvals(engine, spec_json, "reject", "approve")
    assert engine.ready_tasks(workflow) == [] and engine.is_done(workflow)
    assert ends(engine, workflow) == ["approved"]
    assert engine.data(workflow)["decisions"] == ["reject", "approve"]


def test_parallel_any_all_rejecting_is_rejected(engine):
    spec_json = spec_of("multi_instance", "parallel_any.bpmn")
    workflow = approvals(engine, spec_json, "reject", "reject", "reject")
    assert ends(engine, workflow) == ["rejected"]


def test_sequential_all_asks_one_after_another(engine):
    spec_json = spec_of("multi_instance", "sequential_all.bpmn")
    workflow = approvals(engine, spec_json, "approve")
    [task] = engine.ready_tasks(workflow)
    assert workflow.get_task_from_id(UUID(task.id)).data["approver"] == "bob"
    workflow = approvals(engine, spec_json, "approve", "approve", "approve")
    assert ends(engine, workflow) == ["approved"]


def test_sequential_all_one_rejection_rejects_after_everyone_answered(engine):
    spec_json = spec_of("multi_instance", "sequential_all.bpmn")
    workflow = approvals(engine, spec_json, "approve", "reject")
    assert [t.step_id for t in engine.ready_tasks(workflow)] == ["approve"]
    workflow = answer(engine, spec_json, workflow, "approve", {"decision": "approve"})
    assert ends(engine, workflow) == ["rejected"]


def test_sequential_any_stops_at_the_first_approval(engine):
    spec_json = spec_of("multi_instance", "sequential_all.bpmn",
                        ('<bpmn:outputDataItem id="decision" name="decision"/>',
                         '<bpmn:outputDataItem id="decision" name="decision"/>'
                         '<bpmn:completionCondition>decision == "approve"'
                         '</bpmn:completionCondition>'),
                        ('"reject" not in decisions', '"approve" in decisions'))
    workflow = approvals(engine, spec_json, "reject", "approve")
    assert engine.is_done(workflow) and ends(engine, workflow) == ["approved"]


def test_parallel_all_waits_for_everyone(engine):
    spec_json = spec_of("multi_instance", "sequential_all.bpmn",
                        ('isSequential="true"', 'isSequential="false"'))
    workflow = approvals(engine, spec_json)
    assert len(engine.ready_tasks(workflow)) == 3
    workflow = approvals(engine, spec_json, "approve", "approve")
    assert len(engine.ready_tasks(workflow)) == 1
    workflow = answer(engine, spec_json, workflow, "approve", {"decision": "approve"})
    assert ends(engine, workflow) == ["approved"]


@pytest.fixture
def staged():
    return spec_of("subprocess", "subprocess.bpmn")


def test_embedded_subprocess_task_carries_its_owner(engine, staged):
    workflow = answer(engine, staged, engine.start(staged), "submit", {"effort_days": 3})
    [task] = engine.ready_tasks(workflow)
    assert task.step_id == "assess" and task.properties["owner"] == "group:engineers"


def test_error_end_in_subprocess_is_caught_by_its_boundary(engine, staged):
    workflow = answer(engine, staged, engine.start(staged), "submit", {"effort_days": 3})
    workflow = answer(engine, staged, workflow, "assess", {"decision": "reject"})
    assert engine.is_done(workflow) and ends(engine, workflow) == ["dropped"]


def test_inclusive_gateway_takes_every_true_branch(engine, staged):
    small = answer(engine, staged, engine.start(staged), "submit", {"effort_days": 3})
    small = answer(engine, staged, small, "assess", {"decision": "approve"})
    assert [t.step_id for t in engine.ready_tasks(small)] == ["review"]
    large = answer(engine, staged, engine.start(staged), "submit", {"effort_days": 8})
    large = answer(engine, staged, large, "assess", {"decision": "approve"})
    assert sorted(t.step_id for t in engine.ready_tasks(large)) == ["budget", "review"]


def test_call_activity_runs_the_other_process_and_joins(engine, staged):
    workflow = answer(engine, staged, engine.start(staged), "submit", {"effort_days": 8})
    workflow = answer(engine, staged, workflow, "assess", {"decision": "approve"})
    workflow = answer(engine, staged, workflow, "budget", {"decision": "approve"})
    assert not engine.is_done(workflow)
    workflow = answer(engine, staged, workflow, "review", {"decision": "approve"})
    assert engine.is_done(workflow) and ends(engine, workflow) == ["done"]


def test_error_end_in_called_process_is_caught_by_the_call(engine, staged):
    workflow = answer(engine, staged, engine.start(staged), "submit", {"effort_days": 8})
    workflow = answer(engine, staged, workflow, "assess", {"decision": "approve"})
    workflow = answer(engine, staged, workflow, "budget", {"decision": "reject"})
    assert ends(engine, workflow) == ["dropped"]
    assert [t.step_id for t in engine.ready_tasks(workflow)] == ["review"]


def test_next_timer_sees_a_date_timer(engine):
    timer = ('<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition>'
             '<bpmn:timeDate>"2030-01-01T08:00:00+08:00"</bpmn:timeDate>'
             '</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>\n'
             '    <bpmn:sequenceFlow id="flow_wait" sourceRef="wait" targetRef="review"/>\n'
             '    <bpmn:sequenceFlow id="flow_submit" sourceRef="submit" targetRef="wait"/>')
    timed = unchecked_spec('<bpmn:sequenceFlow id="flow_submit" sourceRef="submit" '
                           'targetRef="review"/>', timer)
    workflow, _ = run_through(engine, timed, {})
    assert engine.next_timer(workflow) == datetime(2030, 1, 1, tzinfo=UTC)
