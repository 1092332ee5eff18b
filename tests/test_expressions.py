"""The expression evaluator computes what admins write and nothing more."""

import pytest

from andon import expressions
from andon.expressions import ExpressionError, check, evaluate, run_assignments

DATA = {"decision": "approve", "effort": 12, "data": {"x": [3, 4]}, "name": "Ada"}


@pytest.mark.parametrize(("text", "expected"), [
    ('decision == "approve" and effort > 10', True),
    ('decision == "approve" and effort > 20', False),
    ("1 < effort <= 12 < 13", True),
    ("3 in data['x'] and 5 not in data['x']", True),
    ('data["x"][0] + data["x"][-1]', 7),
    ("data['x'][0:1]", [3]),
    ("effort * 2 - 4 / 2 + 7 // 2 + 7 % 4 + 2 ** 3", 24 - 2.0 + 3 + 3 + 8),
    ("'big' if effort > 10 else 'small'", "big"),
    ("not effort or name", "Ada"),
    ("[1, (2, 3), {'a': None}, True, 1.5]", [1, (2, 3), {"a": None}, True, 1.5]),
    ("len(name) + abs(-2) + min(4, 2) + max([1, 9]) + sum([1, 2])", 3 + 2 + 2 + 9 + 3),
    ("round(2.456, 2)", 2.46),
    ("int('7') + float('0.5')", 7.5),
    ("str(effort) + lower('AB') + upper('c')", "12abC"),
    ("bool(0)", False),
    ("-effort", -12),
])
def test_evaluate_computes_the_value(text, expected):
    assert evaluate(text, DATA) == expected


def test_boolean_operators_short_circuit():
    assert evaluate("effort > 100 and missing", DATA) is False
    assert evaluate("effort > 1 or missing", DATA) is True


@pytest.mark.parametrize(("text", "construct"), [
    ("__import__('os')", "Calling '__import__'"),
    ("().__class__.__base__.__subclasses__()", "attribute access '.__subclasses__'"),
    ("open('x')", "Calling 'open'"),
    ("x.__class__", "attribute access '.__class__'"),
    ("name.upper()", "attribute access '.upper'"),
    ("(lambda: 1)()", "lambda"),
    ("[i for i in data]", "list comprehension"),
    ("{k: 1 for k in data}", "dict comprehension"),
    ("sum(i for i in data)", "generator expression"),
    ("(y := 1)", "assignment expression"),
    ("f'{name}'", "f-string"),
    ("len(name, key=1)", "keyword arguments"),
    ("[*data]", "unpacking (*)"),
    ("{**data}", "unpacking (**)"),
    ("b'x'", "constant of type bytes"),
    ("__builtins__", "Name '__builtins__'"),
])
def test_forbidden_constructs_are_named(text, construct):
    with pytest.raises(ExpressionError) as info:
        evaluate(text, {**DATA, "x": 1})
    assert construct in str(info.value)
    assert "column" in str(info.value)


def test_error_names_the_column():
    with pytest.raises(ExpressionError, match=r"column 11"):
        evaluate("effort + (name.__class__)", DATA)


@pytest.mark.parametrize(("text", "reason"), [
    ("9**9**9", "exponent"),
    ("'a' * 10**9", "longer than"),
    ("[0] * 10**6", "longer than"),
    (" * ".join(["2**256"] * 17), "too large"),
    ("'%0*d' % (10**9, 1)", "formatting"),
    ("1 / 0", "division by zero"),
    ("round(5, -10**9)", "20 digits"),
    ("str([1])", "takes a number"),
])
def test_resource_exhaustion_is_refused(text, reason):
    with pytest.raises(ExpressionError, match=reason):
        evaluate(text, {})


@pytest.mark.parametrize("text", [
    "abs(" * 60 + "1" + ")" * 60,
    "-" * 1500 + "1",
    "+".join(["1"] * 900),
    "[" * 60 + "]" * 60,
])
def test_deeply_nested_or_large_expressions_are_refused(text):
    with pytest.raises(ExpressionError, match="nested|complex|Syntax"):
        evaluate(text, {})


def test_overlong_text_is_refused():
    with pytest.raises(ExpressionError, match="too long: 2001 characters"):
        evaluate("1" + " " * 2000, {})


def test_step_budget_is_enforced(monkeypatch):
    monkeypatch.setattr(expressions, "MAX_STEPS", 5)
    with pytest.raises(ExpressionError, match="too many steps"):
        evaluate("1 + 2 + 3 + 4 + 5", {})


def test_unknown_name_is_named():
    with pytest.raises(ExpressionError, match="Unknown name 'budget'"):
        evaluate("effort > budget", DATA)


def test_runtime_type_error_names_the_operator():
    with pytest.raises(ExpressionError, match=r"operator '\+' failed"):
        evaluate("name + effort", DATA)


def test_syntax_error_is_an_expression_error():
    with pytest.raises(ExpressionError, match="Syntax error"):
        check("effort >")


def test_check_validates_without_evaluating():
    check("missing_name / 0")
    check("effort > 10 and len(name) > 1", names=["effort", "name"])
    with pytest.raises(ExpressionError, match="Unknown name 'budget'"):
        check("effort > budget", names=["effort"])
    with pytest.raises(ExpressionError, match="Calling 'exec'"):
        check("exec('1')")


def test_non_text_is_refused():
    with pytest.raises(ExpressionError, match="must be text"):
        evaluate(["1"], {})  # type: ignore[arg-type]


def test_run_assignments_runs_lines_in_order_without_touching_context():
    context = {"effort": 12}
    result = run_assignments("big = effort > 10\n# comment\n\nlabel = 'L' if big else 'S'",
                             context)
    assert result == {"big": True, "label": "L"}
    assert context == {"effort": 12}


@pytest.mark.parametrize(("script", "message"), [
    ("import os", "name = expression"),
    ("x = 1; y = 2", "one per line"),
    ("a, b = 1, 2", "name = expression"),
    ("data.x = 1", "name = expression"),
    ("x += 1", "name = expression"),
    ("for i in data: pass", "name = expression"),
    ("_private = 1", "Name '_private'"),
    ("x = __import__('os')", "Calling '__import__'"),
    ("x = 1\ny = missing", r"Unknown name 'missing' \(line 2, column 5\)"),
])
def test_run_assignments_refuses_anything_else(script, message):
    with pytest.raises(ExpressionError, match=message):
        run_assignments(script, {"data": {}})


def test_check_assignments_knows_earlier_targets():
    expressions.check_assignments("a = effort\nb = a + 1", names=["effort"])
    with pytest.raises(ExpressionError, match="Unknown name 'c'"):
        expressions.check_assignments("a = 1\nb = c", names=[])
