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
    assert info.value.problems == [("unsupported.bpmn: call_erp",
                                    "complexGateway is not supported")]


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


def test_boundary_timer_on_a_script_task_is_refused():
    timer = ('<bpmn:boundaryEvent id="record_late" attachedToRef="record">'
             '<bpmn:timerEventDefinition><bpmn:timeDuration>"PT1H"</bpmn:timeDuration>'
             '</bpmn:timerEventDefinition></bpmn:boundaryEvent>\n    <bpmn:endEvent id="end"')
    [(where, message)] = problems_of(variant('<bpmn:endEvent id="end"', timer))
    assert where == "x.bpmn: record_late" and "timer on a user or manual task" in message


def test_timer_start_on_the_main_process_needs_a_starter():
    xml = variant('<bpmn:outgoing>flow_start</bpmn:outgoing>',
                  '<bpmn:outgoing>flow_start</bpmn:outgoing><bpmn:timerEventDefinition>'
                  '<bpmn:timeCycle>"R/PT1H"</bpmn:timeCycle></bpmn:timerEventDefinition>')
    [(where, message)] = problems_of(xml)
    assert where == "x.bpmn: start" and "user:<username> or role:<role>" in message


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
    assert "exactly one main process" in problems_of(xml)[0][1]
    recursive = edited(*STAGED, 'calledElement="finance_check"', 'calledElement="staged_change"')
    assert "exactly one main process" in problems_of(recursive)[0][1]


def test_property_without_value_is_named():
    xml = variant('<spiff:property name="form" value="change_review"/>',
                  '<spiff:property name="form" value="change_review"/><spiff:property name="x"/>')
    assert problems_of(xml) == [("x.bpmn: review", "A spiff:property needs a name and a value")]


@pytest.mark.parametrize(("case", "name", "kinds"), [
    ("timers", "boundary.bpmn", {"boundaryEvent"}),
    ("timers", "waits.bpmn", {"intermediateCatchEvent"}),
    ("timers", "cycle.bpmn", {"subProcess", "boundaryEvent", "manualTask"}),
    ("multi_instance", "parallel_any.bpmn", {"userTask"}),
    ("multi_instance", "sequential_all.bpmn", {"userTask"}),
    ("subprocess", "subprocess.bpmn", {"subProcess", "callActivity", "inclusiveGateway"}),
])
def test_the_wider_subset_loads(case, name, kinds):
    flow = load_case(case, name)
    assert kinds <= {step.kind for step in flow.steps}


def test_steps_inside_subprocesses_and_called_processes_are_listed():
    steps = {step.id: step for step in load_case("subprocess", "subprocess.bpmn").steps}
    assert steps["assess"].properties == {"form": "change_review", "owner": "group:engineers"}
    assert steps["assess"].lane == "engineers"
    assert steps["budget"].properties["owner"] == "user:director"
    assert steps["infeasible"].kind == "endEvent"


def edited(case: str, name: str, old: str, new: str) -> bytes:
    """Return a test file with one piece of text replaced."""
    text = (DATA / case / name).read_text()
    assert old in text
    return text.replace(old, new, 1).encode()


BOUNDARY = ("timers", "boundary.bpmn")
WAITS = ("timers", "waits.bpmn")
SEQUENTIAL = ("multi_instance", "sequential_all.bpmn")
STAGED = ("subprocess", "subprocess.bpmn")


@pytest.mark.parametrize(("file", "old", "new", "where", "complaint"), [
    (BOUNDARY, '"PT30M"', "PT30M", "review_slow", 'in quotes: "PT30M"'),
    (BOUNDARY, '"PT30M"', '"PT30X"', "review_slow", "not a valid ISO 8601 timeDuration"),
    (BOUNDARY, '"PT30M"', "__import__('os')", "review_slow", "__import__"),
    (BOUNDARY, '<bpmn:timeDuration>"PT30M"</bpmn:timeDuration>', "", "review_slow",
     "needs one timeDate, timeDuration or timeCycle"),
    (BOUNDARY, 'attachedToRef="review" cancelActivity', 'attachedToRef="start" cancelActivity',
     "review_slow", "timer on a user or manual task"),
    (WAITS, "<bpmn:timeDate>window_opens</bpmn:timeDate>",
     '<bpmn:timeCycle>"R2/PT1H"</bpmn:timeCycle>', "window", "timeDate or timeDuration"),
    (WAITS, "<bpmn:timeDate>window_opens", '<bpmn:timeDate>"2025-13-01"', "window",
     "not a valid ISO 8601 timeDate"),
    (WAITS, '<bpmn:timerEventDefinition><bpmn:timeDuration>"P1D"</bpmn:timeDuration>'
     "</bpmn:timerEventDefinition>", "<bpmn:messageEventDefinition/>", "cool_off",
     "must name a bpmn:message"),
    (SEQUENTIAL, "<bpmn:loopDataOutputRef>decisions</bpmn:loopDataOutputRef>", "", "approve",
     "sequential multi-instance task needs a loopDataOutputRef"),
    (SEQUENTIAL, "<bpmn:loopDataInputRef>approvers</bpmn:loopDataInputRef>",
     "<bpmn:loopCardinality>3</bpmn:loopCardinality>", "approve", "loopCardinality"),
    (SEQUENTIAL, '<bpmn:inputDataItem id="approver" name="approver"/>',
     '<bpmn:inputDataItem id="approver"/><bpmn:completionCondition>x.y</bpmn:completionCondition>',
     "approve", "attribute access"),
    (SEQUENTIAL, '<bpmn:multiInstanceLoopCharacteristics isSequential="true">',
     "<bpmn:standardLoopCharacteristics/><bpmn:multiInstanceLoopCharacteristics>", "approve",
     "standardLoopCharacteristics in userTask is not supported"),
    (STAGED, 'calledElement="finance_check"', 'calledElement="nowhere"', "finance",
     "call another process in the same file"),
    (STAGED, '<bpmn:subProcess id="assessment" name="Assessment">',
     '<bpmn:subProcess id="assessment" name="Assessment" triggeredByEvent="true">',
     "assessment", "event subprocess"),
    (STAGED, '<bpmn:endEvent id="assessed"/>', '<bpmn:complexGateway id="assessed"/>',
     "assessment", "complexGateway in subProcess is not supported"),
    (STAGED, '<bpmn:endEvent id="done" name="Done"/>',
     '<bpmn:endEvent id="done"><bpmn:terminateEventDefinition/></bpmn:endEvent>', "done",
     "terminateEventDefinition in endEvent is not supported"),
    (STAGED, '<bpmn:boundaryEvent id="finance_refused" attachedToRef="finance">',
     '<bpmn:boundaryEvent id="finance_refused" attachedToRef="finance" cancelActivity="false">',
     "finance_refused", "always interrupts"),
    (STAGED, 'attachedToRef="finance">\n      <bpmn:errorEventDefinition',
     'attachedToRef="review">\n      <bpmn:errorEventDefinition', "finance_refused",
     "an error on a subprocess or call activity"),
    (STAGED, '<bpmn:inclusiveGateway id="both_done" default="f6"/>',
     '<bpmn:inclusiveGateway id="both_done"/>', "f6", "needs a condition"),
])
def test_outside_the_subset_is_refused_with_the_element(file, old, new, where, complaint):
    problems = problems_of(edited(*file, old, new), "f.bpmn")
    assert any(w == f"f.bpmn: {where}" and complaint in m for w, m in problems), problems


@pytest.mark.parametrize("element", [
    '<bpmn:adHocSubProcess id="refused"/>',
    '<bpmn:sendTask id="refused"/>',
    '<bpmn:receiveTask id="refused"/>',
    '<bpmn:transaction id="refused"/>',
    '<bpmn:complexGateway id="refused"/>',
    '<bpmn:dataObject id="refused"/>',
])
def test_planned_and_unknown_elements_are_refused(element):
    xml = variant('<bpmn:endEvent id="end"', f'{element}\n    <bpmn:endEvent id="end"')
    [(where, message)] = problems_of(xml)
    assert where == "x.bpmn: refused" and message.endswith("is not supported")


def test_a_data_expression_timer_is_accepted():
    flow = load_bpmn(edited(*BOUNDARY, '"PT30M"', "reminder_after"), "f.bpmn")
    assert "review_slow" in {step.id for step in flow.steps}


@pytest.mark.parametrize(("new", "fix"), [
    ('<bpmn:timeDate>"2025-03-10T08:00:00"', '"2025-03-10T08:00:00+08:00"'),
    ('<bpmn:timeDate>"2025-03-10"', '"2025-03-10T00:00:00+08:00"'),
    ('<bpmn:timeDate>"2025-W11-1T08:00"', '"2025-W11-1T08:00+08:00"'),
])
def test_a_literal_date_without_an_offset_is_refused_showing_the_fix(new, fix):
    problems = problems_of(edited(*WAITS, "<bpmn:timeDate>window_opens", new), "f.bpmn")
    assert any(w == "f.bpmn: window" and "no UTC offset" in m and fix in m
               for w, m in problems), problems


def test_a_cycle_starting_at_a_date_without_an_offset_is_refused():
    cycle = '<bpmn:timeCycle>"R2/2025-03-10T08:00/PT1H"</bpmn:timeCycle>'
    problems = problems_of(edited(*BOUNDARY, '<bpmn:timeDuration>"PT30M"</bpmn:timeDuration>',
                                  cycle), "f.bpmn")
    assert any(w == "f.bpmn: review_slow" and '"2025-03-10T08:00+08:00"' in m
               for w, m in problems), problems


@pytest.mark.parametrize("text", [
    '"2025-03-10T08:00:00+08:00"', '"2025-03-10T00:00:00Z"',
    "datetime(&quot;2025-03-10T08:00+08:00&quot;)",
    "datetime(window_opens, &quot;Asia/Shanghai&quot;)",
])
def test_dates_with_an_offset_or_from_data_are_accepted(text):
    flow = load_bpmn(edited(*WAITS, "<bpmn:timeDate>window_opens", f"<bpmn:timeDate>{text}"),
                     "f.bpmn")
    assert "window" in {step.id for step in flow.steps}


def test_a_date_expression_without_an_offset_is_refused():
    problems = problems_of(edited(*WAITS, "<bpmn:timeDate>window_opens",
                                  "<bpmn:timeDate>datetime(&quot;2025-03-10T08:00&quot;)"),
                           "f.bpmn")
    assert any(w == "f.bpmn: window" and "2025-03-10T08:00+08:00" in m
               for w, m in problems), problems
