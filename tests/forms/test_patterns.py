"""Patterns that backtrack catastrophically are refused when a form is saved."""

from __future__ import annotations

import pytest

from andon.errors import InvalidDefinition, InvalidSubmission
from andon.forms import builder, builder_panel
from andon.forms.patterns import NESTED, OVERLAP, backtracking_problem
from andon.forms.schema import check_definition

RISKY = {
    "(a+)+$": NESTED, "(a*)*": NESTED, r"^(\w+\s?)*$": NESTED, "(?:x*y?)*": NESTED,
    r"^([a-z]+-?)*$": NESTED, "(x+x+)+y": NESTED, "(.*a){12}": NESTED,
    "(a|a)*": OVERLAP, "(a|ab)*$": OVERLAP, r"(\d|\d\d)+$": OVERLAP,
}
SAFE = [r"^[A-Z]{3}-\d{4}$", r"^\d+$", r"^[a-z]+(-[a-z]+)*$", r"(\d{3}-)*\d+", r"^(a|b)*$",
        r"^(?:[0-9]{1,3}\.){3}[0-9]{1,3}$", r"^[\w.+-]+@[\w-]+\.[\w.]+$", r"(\d| )+",
        "(?>a+)+", "^(a++)+$", r"^(cat|dog)+$", r"(ab+)*", r"^(\w|\d)+$", r"^(\s*\w+\s*,)*$",
        r"^1[3-9]\d{9}$", r"^[\u4e00-\u9fa5]{2,20}$"]


@pytest.mark.parametrize(("pattern", "problem"), sorted(RISKY.items()))
def test_risky_patterns_are_named_with_the_reason(pattern: str, problem: str) -> None:
    assert backtracking_problem(pattern) == problem


@pytest.mark.parametrize("pattern", SAFE)
def test_everyday_patterns_pass(pattern: str) -> None:
    assert backtracking_problem(pattern) is None


def test_a_definition_with_a_risky_pattern_is_refused_by_its_json_path() -> None:
    definition = builder.new_definition("codes", {"en": "Codes"})
    definition["schema"]["properties"] = {
        "lines": {"type": "array", "items": {"type": "object", "properties": {
            "code": {"type": "string", "pattern": "^(a+)+$"}}}},
        "tags": {"type": "object", "patternProperties": {"(x|x)*": {"type": "string"}}}}
    with pytest.raises(InvalidDefinition) as refused:
        check_definition(definition, "codes.json")
    assert refused.value.problems == [
        ("$.schema.properties.lines.items.properties.code.pattern", NESTED),
        ('$.schema.properties.tags.patternProperties["(x|x)*"]', OVERLAP)]


def test_the_builder_refuses_a_risky_pattern_in_the_panel() -> None:
    form = builder.new_definition("codes", {"en": "Codes"})
    path = builder.add_field(form, "text")
    values = builder_panel.panel_values(form, path)
    with pytest.raises(InvalidSubmission) as refused:
        builder_panel.update_field(form, path, {**values, "pattern": r"^(\w+\s?)*$"})
    assert refused.value.errors["pattern"].msgid == NESTED
