"""The flow designer's domain: templates, the side panel read and written, drafts, problems."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from andon import catalog
from andon.errors import InvalidSubmission
from andon.flows import designer, plain_time, step_panel
from andon.flows.deploy import deploy_flow
from andon.flows.elements import NS, properties
from andon.identity.models import User

SUNDAY = date(2026, 11, 22)


def configured(xml: str, step: str, **inputs: str) -> str:
    """Apply the panel of a step with its current values and some changed."""
    values = {**step_panel.view(xml, step).values, **inputs}
    return step_panel.apply(xml, step, values, ["title", "decision", "acceptance_date"], SUNDAY)


def step_properties(xml: str, step: str) -> dict[str, str]:
    """Return a step's spiff:properties in a draft."""
    return properties(step_panel.element(designer.parse(xml, "t.bpmn"), step))


@pytest.mark.parametrize("template", [name for name, _ in designer.TEMPLATES])
def test_every_template_parses_with_the_key_and_titles(template: str) -> None:
    xml = designer.new_xml(template, "site_move", {"en": "Site <move>", "zh-CN": "搬迁"})
    root = designer.parse(xml, "t.bpmn")
    process = root.find("bpmn:process", NS)
    assert process.get("id") == "site_move"
    assert properties(process)["title_en"] == "Site <move>"
    assert properties(process)["title_zh"] == "搬迁"
    assert root.find(".//{http://www.omg.org/spec/BPMN/20100524/DI}BPMNPlane") is not None


def test_friendly_durations_read_and_show_as_people_write_them() -> None:
    assert plain_time.to_iso("2d") == "P2D"
    assert plain_time.to_iso("1d 4h") == "P1DT4H"
    assert plain_time.to_iso("3天") == "P3D"
    assert plain_time.to_iso("90m") == "PT1H30M"
    assert plain_time.to_iso("2w") == "P14D"
    assert plain_time.to_iso("pt4h") == "PT4H"
    for bad in ("", "soon", "2 parsecs", "0h", "P"):
        with pytest.raises(ValueError):
            plain_time.to_iso(bad)
    assert plain_time.friendly("P1DT4H") == "1d 4h"
    assert plain_time.friendly("PT30M") == "30m"


def test_a_user_step_is_configured_through_the_panel_and_read_back() -> None:
    xml = designer.new_xml("linear_approval", "purchase", {"en": "Purchase"})
    xml = configured(xml, "approve", name="Approve the purchase", name_zh="采购审批",
                     form="change_review", owner="group:delivery-directors",
                     deadline_mode="duration", deadline="2d", deadline_time="working",
                     remind_before="4h, 1h", esc_delay_0="1d", esc_action_0="reassign",
                     esc_target_0="manager:assignee", esc_delay_1="0",
                     esc_action_1="notify", esc_target_1="manager:starter",
                     perm_title="readonly", perm_decision="editable")
    props = step_properties(xml, "approve")
    assert props == {
        "name_zh": "采购审批", "owner": "group:delivery-directors", "form": "change_review",
        "deadline": "P2D", "remind_before": "PT4H, PT1H",
        "escalation": "PT0S notify manager:starter; P1D reassign manager:assignee",
        "readonly": "title"}
    shown = step_panel.view(xml, "approve")
    assert shown.values["name"] == "Approve the purchase"
    assert shown.values["deadline"] == "2d" and shown.values["remind_before"] == "4h, 1h"
    assert shown.escalation == [("0", "notify", "manager:starter"),
                                ("1d", "reassign", "manager:assignee")]


def test_a_plain_task_drawn_from_the_palette_becomes_a_user_task() -> None:
    xml = designer.new_xml("linear_approval", "purchase", {"en": "Purchase"}).replace(
        '<bpmn:userTask id="approve"', '<bpmn:task id="approve"').replace(
        "</bpmn:userTask>\n    <bpmn:endEvent", "</bpmn:task>\n    <bpmn:endEvent")
    assert step_panel.view(xml, "approve").kind == "task"
    xml = configured(xml, "approve", step_type="userTask", form="change_review")
    node = step_panel.element(designer.parse(xml, "t.bpmn"), "approve")
    assert node.tag == "{http://www.omg.org/spec/BPMN/20100524/MODEL}userTask"
    assert properties(node)["form"] == "change_review"
    xml = configured(xml, "approve", step_type="manualTask")
    assert "form" not in step_properties(xml, "approve")


def test_a_deadline_from_a_date_field_and_cc_of_several_people() -> None:
    xml = designer.new_xml("linear_approval", "purchase", {"en": "Purchase"})
    posted = MultiDict({**step_panel.view(xml, "approve").values, "deadline_mode": "field",
                        "deadline_field": "acceptance_date", "deadline_before": "2"})
    posted.setlist("cc", ["user:li", "manager:starter"])
    xml = step_panel.apply(xml, "approve", posted, ["acceptance_date"], SUNDAY)
    props = step_properties(xml, "approve")
    assert props["deadline_at"] == 'date(acceptance_date) - duration("P2D")'
    assert props["cc"] == "user:li, manager:starter"
    assert "deadline" not in props
    shown = step_panel.view(xml, "approve").values
    assert (shown["deadline_mode"], shown["deadline_field"], shown["deadline_before"]) == \
        ("field", "acceptance_date", "2")


def test_bad_panel_inputs_are_named_and_change_nothing() -> None:
    xml = designer.new_xml("linear_approval", "purchase", {"en": "Purchase"})
    with pytest.raises(InvalidSubmission) as refused:
        configured(xml, "approve", owner="boss:everyone", deadline_mode="duration",
                   deadline="soon", esc_action_0="notify", esc_delay_0="1d", esc_target_0="",
                   remind_before="4 lightyears")
    assert set(refused.value.errors) == {"owner", "deadline", "esc_target_0", "remind_before"}
    with pytest.raises(InvalidSubmission) as refused:
        configured(xml, "approve", deadline_mode="none", remind_before="4h")
    assert set(refused.value.errors) == {"deadline_mode"}


def test_conditions_are_checked_against_the_forms_fields_and_defaults_set() -> None:
    xml = designer.new_xml("linear_approval", "purchase", {"en": "Purchase"})
    with pytest.raises(InvalidSubmission) as refused:
        configured(xml, "to_end", condition="decison == 'approve'")
    assert set(refused.value.errors) == {"condition"}
    with pytest.raises(InvalidSubmission):
        configured(xml, "to_end", condition="__import__('os')")
    xml = configured(xml, "to_end", condition="decision == 'approve'")
    flow = step_panel.element(designer.parse(xml, "t.bpmn"), "to_end")
    assert flow.find("bpmn:conditionExpression", NS).text == "decision == 'approve'"
    assert step_panel.view(xml, "to_end").values["condition"] == "decision == 'approve'"


def test_a_timer_is_set_in_plain_terms() -> None:
    xml = designer.new_xml("blank", "review", {"en": "Review"}).replace(
        '<bpmn:endEvent id="end" name="Done">',
        '<bpmn:intermediateCatchEvent id="wait" name="Wait"><bpmn:timerEventDefinition>'
        '<bpmn:timeDuration>"PT1H"</bpmn:timeDuration></bpmn:timerEventDefinition>'
        '</bpmn:intermediateCatchEvent><bpmn:endEvent id="end" name="Done">')
    assert step_panel.view(xml, "wait").values["timer_duration"] == "1h"
    weekly = configured(xml, "wait", timer_kind="cycle", cycle_every="2", cycle_unit="W",
                        cycle_weekday="0", cycle_time="10:00", cycle_offset="+08:00")
    assert '"R/2026-11-23T10:00:00+08:00/P2W"' in weekly
    shown = step_panel.view(weekly, "wait").values
    assert plain_time.cycle_words(shown) == (
        "every %(count)s week(s) on %(weekday)s at %(time)s",
        {"count": "2", "weekday": "Monday", "time": "10:00"})
    with pytest.raises(InvalidSubmission) as refused:
        configured(xml, "wait", timer_kind="date", timer_date="2026-12-01 09:00")
    assert set(refused.value.errors) == {"timer_date"}


def test_drafts_are_saved_by_revision_checked_and_published(
        session: Session, people: dict[str, User]) -> None:
    admin = people["admin"]
    draft = designer.create(session, "purchase", {"en": "Purchase", "zh-CN": "采购"},
                            "linear_approval", admin)
    problems = designer.problems(session, "purchase", draft.source)
    assert [f.element_id for f in problems if f.severity == "error"] == ["request"]  # no form yet
    assert catalog.versions_of(session, "flow", "purchase") == []  # checking published nothing
    xml = configured(draft.source, "request", form="change_request")
    read = draft.revision  # what a second editor read too
    with pytest.raises(InvalidSubmission):
        designer.save(session, "purchase", xml.replace('id="purchase"', 'id="other"'), read,
                      admin)
    saved = designer.save(session, "purchase", xml, read, admin)
    with pytest.raises(catalog.StaleDraft):
        designer.save(session, "purchase", xml, read, people["pm"])
    assert designer.problems(session, "purchase", saved.source) == []
    version, changed = designer.publish(session, "purchase", saved.revision, admin)
    assert changed and version.number == 1 and version.created_by_id == admin.id
    assert catalog.draft(session, "flow", "purchase") is None
    again, changed = deploy_flow(session, version.source.encode(), "purchase.bpmn")
    assert (again.id, changed) == (version.id, False)
    with pytest.raises(InvalidSubmission) as taken:
        designer.create(session, "purchase", {"en": "Again"}, "blank", admin)
    assert set(taken.value.errors) == {"key"}


def test_imported_files_are_parsed_safely_and_named_by_their_process(
        session: Session, people: dict[str, User]) -> None:
    admin = people["admin"]
    entity = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]>'
              b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"/>')
    with pytest.raises(InvalidSubmission) as refused:
        designer.import_file(session, entity, "evil.bpmn", admin)
    assert "DOCTYPE" in refused.value.errors["file"].params["what"]
    bad_id = designer.new_xml("blank", "x", {"en": "X"}).replace('id="x"', 'id="Bad Id"')
    with pytest.raises(InvalidSubmission):
        designer.import_file(session, bad_id.encode(), "bad.bpmn", admin)
    made = designer.import_file(session, designer.new_xml("countersign", "visit",
                                                          {"en": "Visit"}).encode(),
                                "visit.bpmn", admin)
    assert made.definition.key == "visit" and made.revision == 1
