"""Uploaded BPMN files are parsed safely and checked against the supported subset."""

import json
from pathlib import Path

import pytest

from andon.errors import InvalidDefinition
from andon.flows import bpmn
from andon.flows.bpmn import load_bpmn

DATA = Path(__file__).parent.parent / "data"
APPROVAL = (DATA / "approval" / "approval.bpmn").read_bytes()


def load_case(case: str, name: str):
    """Load tests/data/<case>/<name> through load_bpmn."""
    return load_bpmn((DATA / case / name).read_bytes(), name)


def problems_of(xml: bytes, filename: str = "x.bpmn") -> list[tuple[str, str]]:
    """Return the problems load_bpmn reports for ``xml``."""
    with pytest.raises(InvalidDefinition) as info:
        load_bpmn(xml, filename)
    return info.value.problems


def variant(old: str, new: str) -> bytes:
    """Return the approval file with one piece of text replaced."""
    assert old in APPROVAL.decode()
    return APPROVAL.decode().replace(old, new, 1).encode()


def test_approval_loads_with_steps_lanes_and_properties():
    flow = load_case("approval", "approval.bpmn")
    assert (flow.process_id, flow.name) == ("change_approval", "Change approval")
    steps = {step.id: step for step in flow.steps}
    assert [s.id for s in flow.steps] == ["start", "submit", "review", "gw_effort",
                                          "director_review", "record", "end"]
    assert steps["review"].lane == "Leader"
    assert steps["review"].kind == "userTask"
    assert steps["review"].properties == {"form": "change_review"}
    assert steps["director_review"].properties["owner"] == "role:leader"
    assert steps["gw_effort"].kind == "exclusiveGateway"
    assert set(json.loads(flow.spec_json)) >= {"spec", "subprocess_specs"}


def test_malformed_xml_names_the_line():
    problems = problems_of((DATA / "malformed" / "malformed.bpmn").read_bytes(), "malformed.bpmn")
    assert problems[0][0] == "malformed.bpmn: line 32"
    assert "userTsk" in problems[0][1]


def test_doctype_with_entities_is_refused():
    with pytest.raises(InvalidDefinition) as info:
        load_case("doctype", "billion_laughs.bpmn")
    assert info.value.problems == [("billion_laughs.bpmn: line 2", "A DOCTYPE is not allowed")]
    assert "billion_laughs.bpmn" in str(info.value)


def test_doctype_hidden_by_another_encoding_is_refused():
    xml = (DATA / "doctype" / "billion_laughs.bpmn").read_text().replace("UTF-8", "UTF-16")
    assert problems_of(xml.encode("utf-16"), "laughs.bpmn") == [
        ("laughs.bpmn: line 2", "A DOCTYPE is not allowed")]


def test_hardened_parser_refuses_a_doctype_the_byte_scan_misses():
    xml = (DATA / "doctype" / "billion_laughs.bpmn").read_text().replace("UTF-8", "UTF-32")
    [(where, _message)] = problems_of(xml.encode("utf-32"), "laughs.bpmn")
    assert where.startswith("laughs.bpmn: line")


def test_oversize_file_is_refused(monkeypatch):
    monkeypatch.setattr(bpmn, "MAX_BYTES", 1000)
    assert "larger than 1000 bytes" in problems_of(APPROVAL)[0][1]


def test_unsupported_element_is_named():
    with pytest.raises(InvalidDefinition) as info:
        load_case("unsupported", "unsupported.bpmn")
    assert info.value.problems == [("unsupported.bpmn: call_erp", "serviceTask is not supported")]


def test_user_task_without_form_is_named():
    with pytest.raises(InvalidDefinition) as info:
        load_case("no_form", "no_form.bpmn")
    assert info.value.problems == [("no_form.bpmn: review", "A user task needs a 'form' property")]


def test_bad_condition_is_named():
    with pytest.raises(InvalidDefinition) as info:
        load_case("bad_condition", "bad_condition.bpmn")
    [(where, message)] = info.value.problems
    assert where == "bad_condition.bpmn: flow_large"
    assert "attribute access '.__class__'" in message


def test_user_task_without_lane_or_owner_is_named():
    xml = variant('<spiff:property name="owner" value="role:leader"/>', "")
    assert problems_of(xml) == [("x.bpmn: director_review",
                                 "the step has no owner rule and is in no named lane")]


@pytest.mark.parametrize(("owner", "complaint"), [
    ("role:director", "unknown role 'director'"),
    ("manager:previous", "manager: is followed by starter or assignee"),
    ("lane", "no named lane"),
])
def test_owner_rules_are_checked_as_the_runtime_reads_them(owner, complaint):
    xml = variant('value="role:leader"', f'value="{owner}"')
    [(where, message)] = problems_of(xml)
    assert where == "x.bpmn: director_review" and complaint in message


def test_manual_tasks_need_an_owner_too():
    text = variant('<bpmn:userTask id="director_review"',
                   '<bpmn:manualTask id="director_review"').decode()
    text = text.replace("</bpmn:userTask>\n    <bpmn:scriptTask",
                        "</bpmn:manualTask>\n    <bpmn:scriptTask")
    xml = text.replace('<spiff:property name="owner" value="role:leader"/>', "").encode()
    assert problems_of(xml) == [("x.bpmn: director_review",
                                 "the step has no owner rule and is in no named lane")]


def test_bad_owner_is_named():
    xml = variant('value="role:leader"', 'value="everyone"')
    [(where, message)] = problems_of(xml)
    assert where == "x.bpmn: director_review" and "everyone" in message


def test_script_with_import_is_refused_at_deploy():
    xml = variant('outcome = "approved" if approved else "rejected"', 'os = __import__("os")')
    [(where, message)] = problems_of(xml)
    assert where == "x.bpmn: record" and "__import__" in message


def test_boundary_timer_is_refused():
    timer = ('<bpmn:boundaryEvent id="review_late" attachedToRef="review">'
             '<bpmn:timerEventDefinition><bpmn:timeDuration>"PT1H"</bpmn:timeDuration>'
             '</bpmn:timerEventDefinition></bpmn:boundaryEvent>\n    <bpmn:endEvent id="end"')
    assert problems_of(variant('<bpmn:endEvent id="end"', timer)) == [
        ("x.bpmn: review_late", "boundaryEvent is not supported")]


def test_event_definition_inside_start_is_refused():
    xml = variant('<bpmn:outgoing>flow_start</bpmn:outgoing>',
                  '<bpmn:outgoing>flow_start</bpmn:outgoing><bpmn:timerEventDefinition/>')
    [(where, message)] = problems_of(xml)
    assert where == "x.bpmn: start" and "timerEventDefinition" in message


def test_gateway_flow_without_condition_is_refused():
    xml = variant(' default="flow_small"', "")
    [(where, message)] = problems_of(xml)
    assert where == "x.bpmn: flow_small" and "condition" in message


def test_all_problems_are_reported_together():
    xml = variant('<spiff:property name="form" value="change_request"/>', "")
    xml = xml.replace(b"effort &gt; 10", b"effort &gt;")
    assert [where for where, _ in problems_of(xml)] == ["x.bpmn: submit", "x.bpmn: flow_large"]


def test_spiffworkflow_errors_name_the_element():
    xml = variant('targetRef="review"/>', 'targetRef="nowhere"/>')
    [(where, _message)] = problems_of(xml)
    assert where.startswith("x.bpmn: ")


def test_two_processes_are_refused():
    xml = variant("</bpmn:definitions>", '<bpmn:process id="other"/></bpmn:definitions>')
    assert "exactly one process" in problems_of(xml)[0][1]


def test_property_without_value_is_named():
    xml = variant('<spiff:property name="form" value="change_review"/>',
                  '<spiff:property name="form" value="change_review"/><spiff:property name="x"/>')
    assert problems_of(xml) == [("x.bpmn: review", "A spiff:property needs a name and a value")]
