"""Checking form definitions: every rule names the JSON path of the problem."""

import copy
import json
from pathlib import Path

import pytest

from andon.errors import InvalidDefinition
from andon.forms.schema import MAX_DEPTH, FormSpec, check_definition

FORMS = Path(__file__).resolve().parents[2] / "definitions" / "forms"


def load(name: str) -> dict:
    """Return a shipped form definition as parsed JSON."""
    return json.loads((FORMS / f"{name}.json").read_text(encoding="utf-8"))


def problems_of(data: dict) -> list[tuple[str, str]]:
    """Return the problems check_definition reports for ``data``."""
    with pytest.raises(InvalidDefinition) as caught:
        check_definition(data, "broken.json")
    return caught.value.problems


def paths_of(data: dict) -> list[str]:
    """Return the JSON paths of the problems in ``data``."""
    return [path for path, _ in problems_of(data)]


@pytest.mark.parametrize("name", ["change_request", "change_review", "project", "delivery_start",
                                  "stage_report", "customer_signoff"])
def test_shipped_definitions_pass_and_label_every_field_in_both_languages(name):
    spec = check_definition(load(name), f"{name}.json")
    assert isinstance(spec, FormSpec)
    assert spec.key == name
    for field in spec.properties:
        english, chinese = spec.label(field, "en"), spec.label(field, "zh_Hans_CN")
        assert english and chinese and english != chinese != field


def test_label_and_title_follow_the_locale():
    spec = check_definition(load("change_request"), "change_request.json")
    assert spec.label("effort_days", "zh-CN") == "工作量（人天）"
    assert spec.label("effort_days", "en") == "Effort (man-days)"
    assert spec.title_in("zh_Hans_CN") == "变更申请"


def test_remote_ref_is_rejected_at_its_path():
    data = load("change_request")
    data["schema"]["properties"]["effort_days"] = {"$ref": "https://example.com/effort.json"}
    problems = problems_of(data)
    assert ("$.schema.properties.effort_days.$ref",
            "Only local references starting with '#' are allowed.") in problems


def test_local_ref_is_accepted():
    data = load("change_request")
    data["schema"]["$defs"] = {"days": {"type": "number", "minimum": 0}}
    data["schema"]["properties"]["effort_days"] = {"$ref": "#/$defs/days"}
    assert check_definition(data, "ok.json").key == "change_request"


def test_metaschema_violation_names_the_keyword():
    data = load("change_request")
    data["schema"]["properties"]["effort_days"]["minimum"] = "zero"
    data["schema"]["properties"]["title"]["type"] = "strnig"
    paths = paths_of(data)
    assert "$.schema.properties.effort_days.minimum" in paths
    assert "$.schema.properties.title.type" in paths


def test_bad_regex_is_rejected_at_its_path():
    data = load("change_request")
    data["schema"]["properties"]["project"]["pattern"] = "([A-Z"
    problems = problems_of(data)
    messages = [m for p, m in problems if p == "$.schema.properties.project.pattern"]
    assert any("not a valid regular expression" in m for m in messages)


def test_over_long_regex_is_rejected():
    data = load("change_request")
    data["schema"]["properties"]["project"]["pattern"] = "a" * 501
    assert paths_of(data) == ["$.schema.properties.project.pattern"]


def test_bad_pattern_properties_key_is_rejected():
    data = load("change_request")
    data["schema"]["patternProperties"] = {"^x-(": {"type": "string"}}
    assert '$.schema.patternProperties["^x-("]' in paths_of(data)


def test_too_deep_schema_is_rejected_at_the_first_level_too_deep():
    data = load("change_request")
    node = data["schema"]["properties"]["scope_change"] = {"type": "object"}
    for _ in range(MAX_DEPTH):
        node["properties"] = {"x": {"type": "object"}}
        node = node["properties"]["x"]
    # $.schema is level 1 and scope_change level 3; each ".properties.x" adds two.
    first_too_deep = "$.schema.properties.scope_change" + ".properties.x" * ((MAX_DEPTH - 2) // 2)
    assert paths_of(data) == [first_too_deep]


def test_schema_at_the_depth_limit_is_accepted():
    data = load("change_request")
    node = data["schema"]["properties"]["scope_change"] = {"type": "object"}
    for _ in range(MAX_DEPTH // 2 - 2):
        node["properties"] = {"x": {"type": "object"}}
        node = node["properties"]["x"]
    assert check_definition(data, "deep.json").key == "change_request"


def test_huge_schema_is_rejected():
    data = load("change_request")
    data["schema"]["properties"].update({f"f{i}": {"type": "string"} for i in range(6000)})
    assert paths_of(data) == ["$.schema"]


def test_schema_must_describe_an_object():
    data = load("change_request")
    data["schema"]["type"] = "array"
    assert "$.schema.type" in paths_of(data)


def test_every_problem_is_collected_and_the_file_is_named():
    data = load("change_request")
    data["schema"]["properties"]["title"]["pattern"] = "("
    data["schema"]["properties"]["project"]["$ref"] = "other.json#/x"
    data["key"] = "Change Request"
    with pytest.raises(InvalidDefinition) as caught:
        check_definition(data, "change_request.json")
    paths = [path for path, _ in caught.value.problems]
    assert {"$.key", "$.schema.properties.title.pattern",
            "$.schema.properties.project.$ref"} <= set(paths)
    assert caught.value.message.params == {"file": "change_request.json"}
    assert "change_request.json" in str(caught.value)


def test_layout_must_name_schema_fields_and_known_widgets():
    data = load("change_review")
    data["layout"]["order"].append("colour")
    data["layout"]["fields"]["comment"]["widget"] = "wysiwyg"
    data["layout"]["fields"]["decision"]["options"]["maybe"] = {"en": "Maybe"}
    paths = paths_of(data)
    assert paths == ["$.layout.order[2]", "$.layout.fields.decision.options.maybe",
                     "$.layout.fields.comment.widget"]


def test_title_is_required():
    data = load("change_review")
    del data["title"]
    assert paths_of(data) == ["$.title"]


def test_a_rejected_definition_is_not_changed():
    data = load("change_request")
    data["schema"]["properties"]["title"]["pattern"] = "("
    before = copy.deepcopy(data)
    problems_of(data)
    assert data == before
