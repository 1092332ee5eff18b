"""Per-step field permissions: read-only fields keep the instance's values, hidden ones stay out."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from andon.errors import InvalidDefinition, InvalidSubmission
from andon.flows import actions, permissions, runtime
from andon.flows.deploy import deploy_flow
from andon.flows.models import FlowInstance, Task
from andon.forms.store import deploy_form, form_spec_at

DATA = Path(__file__).resolve().parent.parent / "data" / "permissions"
REQUEST = {"title": "Chiller for site B", "cost": "48000", "supplier": "Haier"}


def deploy(session: Session, **replace: str) -> None:
    """Deploy both forms and the flow, with text of the flow replaced."""
    for name in ("purchase.json", "install.json"):
        deploy_form(session, (DATA / name).read_text(), name)
    source = (DATA / "install.bpmn").read_text()
    for old, new in replace.items():
        assert old in source
        source = source.replace(old, new)
    deploy_flow(session, source.encode(), "install.bpmn")


@pytest.fixture
def instance(session: Session, staff) -> FlowInstance:
    """Return a purchase waiting for the engineers' installation step."""
    deploy(session)
    started = runtime.start_instance(session, "perm_install", staff["pm"], REQUEST)
    session.commit()
    return started


def waiting(instance: FlowInstance) -> Task:
    """Return the instance's one open task."""
    (task,) = [t for t in instance.tasks if t.state == "open"]
    return task


def test_a_forged_read_only_or_hidden_value_changes_nothing(session, staff, instance) -> None:
    task = waiting(instance)
    runtime.complete_task(session, task.id, staff["engineer1"],
                          {"title": "Forged", "cost": "1", "supplier": "Midea",
                           "notes": "Mounted on the roof"})
    session.commit()
    assert instance.status == "completed"
    assert instance.data["title"] == "Chiller for site B"
    assert instance.data["cost"] == 48000
    assert instance.data["supplier"] == "Midea"
    assert task.data["title"] == "Chiller for site B"
    assert "cost" not in task.data


def test_read_only_and_hidden_required_fields_are_not_asked_for(session, staff,
                                                               instance) -> None:
    task = waiting(instance)
    with pytest.raises(InvalidSubmission) as invalid:  # what the step may change is checked
        runtime.complete_task(session, task.id, staff["engineer1"], {})
    assert set(invalid.value.errors) == {"notes"}
    runtime.complete_task(session, task.id, staff["engineer1"], {"notes": "Done"})
    assert task.data == {"title": "Chiller for site B", "notes": "Done"}


def test_an_editable_list_makes_every_other_field_read_only(session, staff) -> None:
    deploy(session, **{'name="readonly" value="title"': 'name="editable" value="notes"'})
    instance = runtime.start_instance(session, "perm_install", staff["pm"], REQUEST)
    task = waiting(instance)
    runtime.complete_task(session, task.id, staff["engineer1"],
                          {"title": "X", "supplier": "Midea", "notes": "Done"})
    assert instance.data["supplier"] == "Haier"
    assert task.data == {"title": "Chiller for site B", "supplier": "Haier", "notes": "Done"}


def test_the_step_sees_a_view_of_its_form(session, instance) -> None:
    task = waiting(instance)
    rights = permissions.of_step(instance.version.content, task.step_id)
    view = permissions.view(form_spec_at(session, task.form_version_id), rights)
    assert view.order() == ["title", "supplier", "notes"]
    assert view.properties["title"]["readOnly"] is True
    assert "readOnly" not in view.properties["notes"]
    assert view.required == {"notes"}


def test_a_draft_and_a_send_back_keep_the_read_only_value_in_step(session, staff,
                                                                  instance) -> None:
    task = waiting(instance)
    actions.save_draft(session, task.id, staff["engineer1"], {"title": "Forged", "notes": "x"})
    actions.send_back(session, task.id, staff["engineer1"], "request", "Which roof?")
    again = waiting(instance)
    runtime.complete_task(session, again.id, staff["pm"], {**REQUEST, "title": "Chiller, roof B"})
    install = waiting(instance)
    runtime.complete_task(session, install.id, staff["engineer1"],
                          {"title": "Forged", "notes": "Done"})
    assert instance.data["title"] == "Chiller, roof B"


@pytest.mark.parametrize(("old", "new", "expected"), [
    ('value="title"/>', 'value="title, budget"/>', "'budget' is not a field of any form"),
    ('value="cost"/>', 'value="cost, title"/>',
     "'title' is named both in readonly and in hidden"),
    ('value="cost"/>', 'value="notes"/>', "required field 'notes' is hidden"),
    ('<spiff:property name="owner" value="starter"/>',
     '<spiff:property name="owner" value="starter"/><spiff:property name="hidden" '
     'value="supplier"/>', "The starter's step has no earlier data"),
])
def test_deploy_refuses_bad_lists(session, staff, old, new, expected) -> None:
    with pytest.raises(InvalidDefinition) as refused:
        deploy(session, **{old: new})
    assert [where for where, text in refused.value.problems if expected in text] \
        == [f"install.bpmn: {'request' if 'starter' in expected else 'install'}"]


def test_a_hidden_required_field_another_step_fills_in_is_allowed(session, staff) -> None:
    deploy(session, **{'value="cost"/>': 'value="cost, title"/>',
                       'name="readonly" value="title"': 'name="readonly" value="supplier"'})
    instance = runtime.start_instance(session, "perm_install", staff["pm"], REQUEST)
    runtime.complete_task(session, waiting(instance).id, staff["engineer1"], {"notes": "Done"})
    assert instance.data["title"] == "Chiller for site B"
