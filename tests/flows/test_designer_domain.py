"""The flow designer's domain: validation findings, version comparison, moving instances."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from andon import catalog
from andon.audit import AuditEvent
from andon.errors import InvalidDefinition
from andon.flows import lint, migration, runtime
from andon.flows.compare import compare
from andon.flows.deploy import deploy_flow
from andon.flows.models import FlowInstance, Task
from andon.identity.models import User

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
DESIGNER = DATA / "designer"
V1 = (DESIGNER / "delivery_v1.bpmn").read_bytes()
V2 = (DESIGNER / "delivery_v2.bpmn").read_bytes()
PARALLEL = (DESIGNER / "parallel_v1.bpmn").read_bytes()
WRAP_UP = PARALLEL.replace(
    b'<bpmn:sequenceFlow id="f7" sourceRef="join" targetRef="end"/>',
    b'<bpmn:sequenceFlow id="f7" sourceRef="join" targetRef="wrap"/>'
    b'<bpmn:sequenceFlow id="f8" sourceRef="wrap" targetRef="end"/>').replace(
    b'<bpmn:endEvent id="end"/>',
    b'<bpmn:userTask id="wrap" name="Wrap up"><bpmn:extensionElements><spiff:properties>'
    b'<spiff:property name="form" value="change_review"/>'
    b'<spiff:property name="owner" value="starter"/>'
    b'</spiff:properties></bpmn:extensionElements></bpmn:userTask><bpmn:endEvent id="end"/>')
REQUEST = {"title": "Add an export", "project": "PRJ-1", "reason": "Customer asked",
           "effort_days": "4", "customer_contact": "Liu Yang"}


def found(session: Session, xml: bytes) -> set[tuple[str | None, str, str]]:
    """Return the findings as (element id, severity, English text)."""
    return {(f.element_id, f.severity, f.message.render())
            for f in lint.findings(session, xml, "flow.bpmn")}


def test_a_good_diagram_has_no_findings(session, people):
    assert lint.findings(session, V1, "delivery_v1.bpmn") == []
    assert lint.findings(session, V2, "delivery_v2.bpmn") == []


def test_unsupported_elements_missing_forms_and_owners_are_all_reported(session, people):
    findings = lint.findings(session, (DESIGNER / "broken.bpmn").read_bytes(), "broken.bpmn")
    assert {(f.element_id, f.severity) for f in findings} == {
        ("complex", "error"), ("no_form", "error"), ("no_owner", "error"),
        ("unpublished", "error")}
    by_id = {f.element_id: f.message for f in findings}
    assert by_id["complex"].render() == "complexGateway is not supported"
    assert (by_id["complex"].msgid, by_id["complex"].params) == (
        "%(kind)s is not supported", {"kind": "complexGateway"})
    assert by_id["no_form"].msgid == "A user task needs a 'form' property"
    assert by_id["no_owner"].msgid == "the step has no owner rule and is in no named lane"
    assert by_id["unpublished"].params == {"key": "'no_such_form'"}


def test_drawing_rules_pin_islands_gateways_conditions_and_permissions(session, people):
    assert found(session, (DESIGNER / "careless.bpmn").read_bytes()) == {
        ("review", "error", "'budget' is not a field of any form of this flow"),
        ("island", "error", "Nothing leads to this element: connect a flow into it"),
        ("island", "error", "This element leads nowhere: connect a flow from it to the next "
                            "step or to an end event"),
        ("no", "error", "The condition uses budget, which is no field of this flow's forms "
                        "and is not set by any of its steps"),
        ("decide", "warning", "This gateway has no default flow: when no condition is true the "
                              "flow stops with an error. Mark one outgoing flow as the default"),
    }


def test_a_condition_that_does_not_parse_is_an_error_on_its_flow(session, people):
    xml = V1.replace(b'decision == "approve"', b'decision ==')
    ((element, severity, text),) = found(session, xml)
    assert (element, severity) == ("approved_path", "error") and "Syntax" in text


def test_a_warning_alone_does_not_block_publishing(session, people):
    xml = V1.replace(b' default="rejected_path"', b"").replace(
        b'<bpmn:sequenceFlow id="rejected_path" sourceRef="decide" targetRef="rejected"/>',
        b'<bpmn:sequenceFlow id="rejected_path" sourceRef="decide" targetRef="rejected">'
        b'<bpmn:conditionExpression>decision == "reject"</bpmn:conditionExpression>'
        b'</bpmn:sequenceFlow>')
    assert [(f.element_id, f.severity) for f in lint.findings(session, xml, "flow.bpmn")] == [
        ("decide", "warning")]
    version, changed = deploy_flow(session, xml, "flow.bpmn")
    assert changed and version.number == 1


@pytest.mark.parametrize("xml, where", [
    (b"<bpmn:definitions", None),
    (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x/>', None),
    (b"x" * (2 * 1024 * 1024 + 1), None),
])
def test_a_bad_file_is_one_unpinned_error(session, people, xml, where):
    (finding,) = lint.findings(session, xml, "bad.bpmn")
    assert (finding.element_id, finding.severity) == (where, "error")
    assert finding.message.render().startswith("Line ")
    assert set(finding.message.params["problem"]) == {"en", "zh-CN"}


def shipped_and_test_files() -> list[Path]:
    """Return every BPMN file shipped or used by the tests."""
    return sorted([*(ROOT / "definitions").rglob("*.bpmn"), *DATA.rglob("*.bpmn")])


@pytest.mark.parametrize("path", shipped_and_test_files(), ids=lambda p: p.name)
def test_deploy_refuses_exactly_when_lint_finds_an_error(session, people, path):
    xml = path.read_bytes()
    dmn = {p.name: p.read_bytes() for p in path.parent.glob("*.dmn")}
    errors = [f for f in lint.findings(session, xml, path.name, dmn) if f.severity == "error"]
    try:
        deploy_flow(session, xml, path.name, dmn_files=dmn)
    except InvalidDefinition as refusal:
        assert errors, refusal
    else:
        assert errors == []


def test_compare_lists_added_removed_and_changed_configuration():
    comparison = compare(V1, V2, "en")
    assert comparison.added == [("cr_approval", "Change request approval")]
    assert comparison.removed == []
    changes = {c.element_id: c for c in comparison.changed}
    assert set(changes) == {"pm_review", "decide", "sign_off"}
    assert ("Deadline", "P2D", "P3D") in changes["pm_review"].differences
    assert ("CC", "", "manager:starter") in changes["pm_review"].differences
    assert ("Outgoing flows", "Approved? (decide)", "Change request approval (cr_approval)") \
        in changes["pm_review"].differences
    labels = [label for label, _, _ in changes["decide"].differences]
    assert labels == ["Conditions", "Incoming flows"]
    (_, before, after) = changes["decide"].differences[0]
    assert 'decision == "approve"' in before and "effort_days > 1" in after
    assert changes["sign_off"].differences == [
        ("Name", "Director sign-off", "Delivery director sign-off")]
    assert compare(V2, V1, "zh-CN").removed == [("cr_approval", "变更审批")]
    assert compare(V1, V1, "en").changed == []


def test_compare_sees_type_form_owner_and_permission_changes():
    xml = V1.replace(b'<bpmn:userTask id="pm_review"', b'<bpmn:manualTask id="pm_review"', 1)
    xml = xml.replace(b'</bpmn:userTask>\n    <bpmn:exclusiveGateway',
                      b'</bpmn:manualTask>\n    <bpmn:exclusiveGateway')
    xml = xml.replace(b'value="group:delivery-directors"', b'value="role:leader"')
    xml = xml.replace(b'<spiff:property name="form" value="change_review"/>\n        '
                      b'<spiff:property name="owner" value="role:leader"/>',
                      b'<spiff:property name="form" value="change_request"/>\n        '
                      b'<spiff:property name="owner" value="role:leader"/>\n        '
                      b'<spiff:property name="hidden" value="cost_impact"/>')
    changes = {c.element_id: c.differences for c in compare(V1, xml, "en").changed}
    assert ("Type", "userTask", "manualTask") in changes["pm_review"]
    assert changes["sign_off"] == [("Form", "change_review", "change_request"),
                                   ("Owner rule", "group:delivery-directors", "role:leader"),
                                   ("Hidden fields", "", "cost_impact")]


def publish(session: Session, xml: bytes) -> catalog.DefinitionVersion:
    """Publish a version of the designer tests' flow and commit."""
    version, _ = deploy_flow(session, xml, "delivery_change.bpmn")
    session.commit()
    return version


def start(session: Session, people: dict[str, User], to_decide: bool = False) -> FlowInstance:
    """Start an instance; optionally let the project manager approve it (to the sign-off)."""
    instance = runtime.start_instance(session, "delivery_change", people["engineer1"], REQUEST)
    session.commit()
    if to_decide:
        complete(session, instance, people["pm"])
    return instance


def complete(session: Session, instance: FlowInstance, user: User) -> Task:
    """Approve the instance's one open task as ``user``."""
    (task,) = [t for t in instance.tasks if t.state == "open"]
    runtime.complete_task(session, task.id, user, {"decision": "approve"})
    session.commit()
    return task


def test_impact_groups_instances_by_version_and_step(session, people):
    publish(session, V1)
    first, second = start(session, people), start(session, people)
    signing = start(session, people, to_decide=True)
    assert signing.tasks[-1].step_id == "sign_off"
    assert migration.impact(session, "delivery_change", V1) == []
    groups = migration.impact(session, "delivery_change", V2)
    assert [(g.version, g.step_id, g.step_name, g.count, g.eligible) for g in groups] == [
        (1, "pm_review", "Project manager review", 2, True),
        (1, "sign_off", "Director sign-off", 1, True)]
    assert first.status == second.status == "running"
    removed = V2.replace(b'id="pm_review"', b'id="pm_check"').replace(
        b'targetRef="pm_review"', b'targetRef="pm_check"').replace(
        b'sourceRef="pm_review"', b'sourceRef="pm_check"')
    groups = migration.impact(session, "delivery_change", removed)
    review = next(g for g in groups if g.step_id == "pm_review")
    assert (review.count, review.eligible) == (2, False)
    assert "not in the new version" in review.reason.render()
    broken = migration.impact(session, "delivery_change", b"<bpmn:definitions")
    assert {g.eligible for g in broken} == {False}


def test_migrate_keeps_the_task_and_the_instance_finishes_on_the_new_version(session, people):
    publish(session, V1)
    instance = start(session, people)
    (task,) = [t for t in instance.tasks if t.state == "open"]
    runtime.claim_task(session, task.id, people["pm"])
    session.commit()
    due, task_id = task.due_at, task.id
    v2 = publish(session, V2)
    assert migration.check(session, instance, v2) is None
    migration.migrate(session, instance, v2, people["admin"])
    session.commit()
    assert instance.version_id == v2.id
    (still,) = [t for t in instance.tasks if t.state == "open"]
    assert (still.id, still.assignee_id, still.due_at) == (task_id, people["pm"].id, due)
    event = session.scalars(select(AuditEvent).where(
        AuditEvent.kind == "instance.migrated", AuditEvent.subject_id == instance.id)).one()
    assert (event.detail["version"], event.detail["to"]) == (1, 2)
    assert event.actor_id == people["admin"].id

    complete(session, instance, people["pm"])
    (approval,) = [t for t in instance.tasks if t.state == "open"]
    assert approval.step_id == "cr_approval" and approval.due_at is not None
    assert approval.form_version_id == v2.content["forms"]["change_review"]
    complete(session, instance, people["director"])
    (sign_off,) = [t for t in instance.tasks if t.state == "open"]
    assert sign_off.step_name == "Delivery director sign-off"
    complete(session, instance, people["director"])
    assert instance.status == "completed"
    assert instance.data["effort_days"] == 4 and instance.data["decision"] == "approve"


def test_an_instance_on_an_older_version_is_left_alone_unless_moved(session, people):
    publish(session, V1)
    instance = start(session, people)
    publish(session, V2)
    complete(session, instance, people["pm"])
    (task,) = [t for t in instance.tasks if t.state == "open"]
    assert task.step_id == "sign_off" and instance.version.number == 1


def test_migration_refuses_with_reasons(session, people):
    v1 = publish(session, V1)
    waiting = start(session, people)
    assert "already runs on version 1" in migration.check(session, waiting, v1).render()
    retyped = V1.replace(b'<bpmn:userTask id="pm_review"', b'<bpmn:manualTask id="pm_review"')
    retyped = retyped.replace(b'</bpmn:userTask>\n    <bpmn:exclusiveGateway',
                              b'</bpmn:manualTask>\n    <bpmn:exclusiveGateway')
    v2 = publish(session, retyped)
    reason = migration.check(session, waiting, v2)
    assert reason.msgid.startswith("The step %(step)s where the instance waits has another type")
    with pytest.raises(migration.MigrationRefused, match="another type"):
        migration.migrate(session, waiting, v2, people["admin"])
    session.rollback()
    assert waiting.version_id == v1.id

    gone = V1.replace(b'id="submit"', b'id="describe"').replace(
        b'targetRef="submit"', b'targetRef="describe"').replace(
        b'sourceRef="submit"', b'sourceRef="describe"').replace(
        b'<bpmn:userTask id="pm_review"', b'<bpmn:userTask id="pm_check"').replace(
        b'targetRef="pm_review"', b'targetRef="pm_check"').replace(
        b'sourceRef="pm_review"', b'sourceRef="pm_check"')
    v3 = publish(session, gone)
    assert "is not in the new version" in migration.check(session, waiting, v3).render()

    other, _ = deploy_flow(session, PARALLEL, "parallel_change.bpmn")
    assert migration.check(session, waiting, other).msgid == \
        "Version %(number)s belongs to another flow"


def test_a_waiting_boundary_timer_is_not_carried(session, people):
    timed = V1.replace(b'<bpmn:exclusiveGateway id="decide"', b'''<bpmn:boundaryEvent id="late"
        attachedToRef="pm_review" cancelActivity="false">
      <bpmn:timerEventDefinition><bpmn:timeDuration>"P5D"</bpmn:timeDuration>
      </bpmn:timerEventDefinition></bpmn:boundaryEvent>
    <bpmn:endEvent id="noted"/>
    <bpmn:sequenceFlow id="to_noted" sourceRef="late" targetRef="noted"/>
    <bpmn:exclusiveGateway id="decide"''')
    publish(session, timed)
    instance = start(session, people)
    v2 = publish(session, V2)
    reason = migration.check(session, instance, v2)
    assert reason is not None and "timer" in reason.render()
    (group,) = migration.impact(session, "delivery_change", V2)
    assert (group.step_id, group.eligible) == ("pm_review", False)


def test_parallel_tasks_move_together_but_a_half_joined_branch_is_refused(session, people):
    deploy_flow(session, PARALLEL, "parallel_change.bpmn")
    both = runtime.start_instance(session, "parallel_change", people["engineer1"], REQUEST)
    half = runtime.start_instance(session, "parallel_change", people["engineer1"], REQUEST)
    (review,) = [t for t in half.tasks if t.state == "open" and t.step_id == "pm_review"]
    runtime.complete_task(session, review.id, people["pm"], {"decision": "approve"})
    session.commit()
    v2, _ = deploy_flow(session, WRAP_UP, "parallel_change.bpmn")
    session.commit()
    reason = migration.check(session, half, v2)
    assert reason is not None and reason.params == {"step": "join"}
    assert "parallel branch has finished" in reason.render()

    migration.migrate(session, both, v2, people["admin"])
    session.commit()
    assert sorted(t.step_id for t in both.tasks if t.state == "open") == [
        "director_review", "pm_review"]
    for user in ("pm", "director", "engineer1"):
        (task,) = [t for t in both.tasks if t.state == "open" and runtime.may_act(t, people[user])]
        runtime.complete_task(session, task.id, people[user], {"decision": "approve"})
        session.commit()
    assert [t.step_id for t in both.tasks][-1] == "wrap" and both.status == "completed"


def test_an_instance_waiting_inside_a_subprocess_is_refused(session, people):
    xml = (DATA / "subprocess" / "subprocess.bpmn").read_bytes()
    deploy_flow(session, xml, "subprocess.bpmn")
    session.commit()
    instance = runtime.start_instance(session, "staged_change", people["engineer1"],
                                      REQUEST)
    session.commit()
    assert [t.step_id for t in instance.tasks if t.state == "open"] == ["assess"]
    renamed = xml.replace(b'name="Assess feasibility"', b'name="Assess the feasibility"')
    v2, _ = deploy_flow(session, renamed, "subprocess.bpmn")
    session.commit()
    reason = migration.check(session, instance, v2)
    assert reason is not None and "inside a subprocess" in reason.render()
    (group,) = migration.impact(session, "staged_change", renamed)
    assert (group.step_id, group.count, group.eligible) == ("assess", 1, False)


def test_the_timeline_tells_who_moved_the_instance(client, auth, session):
    publish(session, V1)
    users = {user.username: user for user in session.scalars(select(User))}
    instance = start(session, users)
    v2 = publish(session, V2)
    migration.migrate(session, instance, v2, users["admin"])
    session.commit()
    auth.login("engineer1")
    page = client.get(f"/instances/{instance.id}").get_data(as_text=True)
    assert re.search(r"moved the flow from version 1 to version 2", page)
