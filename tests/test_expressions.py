"""The expression evaluator computes what admins write and nothing more."""

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from andon import clock, expressions
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


# Dates, date-times and durations

FORM = {"acceptance_date": "2026-05-04", "kickoff": "2026-04-27",
        "go_live": "2026-05-01T10:00+08:00", "blank": ""}
NOON_UTC = datetime(2026, 5, 1, 20, 0, tzinfo=UTC)  # already 2 May in Shanghai


@pytest.mark.parametrize(("text", "expected"), [
    ('date(acceptance_date) - duration("P2D")', date(2026, 5, 2)),
    ('date(acceptance_date) + duration("P1W")', date(2026, 5, 11)),
    ("days(date(acceptance_date) - date(kickoff))", 7),
    ('hours(datetime(go_live) - datetime("2026-05-01T00:00Z"))', 2),
    ('hours(duration("P1DT6H")) + minutes(duration("PT1M"))', 31),
    ('days(duration("PT36H"))', 1.5),
    ('datetime(go_live) + duration("PT4H") == datetime("2026-05-01T06:00Z")', True),
    ('date(acceptance_date) > date(kickoff) and duration("P1D") < duration("PT25H")', True),
    ('duration("P1D") * 3 - duration("PT12H")', timedelta(days=2, hours=12)),
    ('duration("P1D") / duration("PT6H")', 4.0),
    ('duration("-P1D") + duration("P2D")', timedelta(days=1)),
    ("[year(date(kickoff)), month(date(kickoff)), day(date(kickoff))]", [2026, 4, 27]),
    ("weekday(date(acceptance_date))", 1),  # Monday
    ("date(datetime(go_live))", date(2026, 5, 1)),
    ('datetime(date(kickoff), "Asia/Shanghai")',
     datetime(2026, 4, 26, 16, 0, tzinfo=UTC)),
    ("max(date(kickoff), date(acceptance_date))", date(2026, 5, 4)),
    ('str(date(kickoff)) + " " + str(duration("P1DT90M"))', "2026-04-27 P1DT1H30M"),
    ("date(acceptance_date) == acceptance_date", False),  # a date is not its text
])
def test_dates_and_durations_compute(text, expected):
    assert evaluate(text, FORM) == expected


def test_today_and_now_read_andons_clock_in_the_given_zone():
    with clock.frozen(NOON_UTC):
        assert evaluate("today()", {}) == date(2026, 5, 1)
        assert evaluate("today()", {}, zone="Asia/Shanghai") == date(2026, 5, 2)
        assert evaluate('today("Asia/Shanghai")', {}) == date(2026, 5, 2)
        assert evaluate("now()", {}) == NOON_UTC
        assert evaluate('now() - duration("PT1H") < now()', {}) is True
        assert evaluate("date(acceptance_date) - today()", FORM) == timedelta(days=3)


@pytest.mark.parametrize(("text", "complaint"), [
    ('date("99999-01-01")', "YYYY-MM-DD"),
    ('date("2026-02-30")', "day is out of range"),
    ("date(blank)", "YYYY-MM-DD"),
    ("date(3)", "takes text"),
    ('date("9999-12-31") + duration("P1D")', "out of range"),
    ('date("0001-01-01") - duration("P1D")', "out of range"),
    ('duration("P9999999999D")', "ISO 8601 duration"),
    ('duration("P1D") * 10 ** 9', "magnitude"),
    ('duration("P1D") * 1e308', "operator '*' failed"),
    ('duration("P1D") / 0', "by zero"),
    ('min(date(kickoff), 3)', "min() failed"),
    ('duration("P999999999D") + duration("P999999999D")', "magnitude"),
    ('duration("P1M")', "years and months"),
    ('duration("P1Y2D")', "years and months"),
    ('duration("PT")', "ISO 8601 duration"),
    ('duration("P" + "9" * 5000 + "D")', "at most 64 characters"),
    ('date(acceptance_date) + duration("PT4H")', "whole days"),
    ('datetime("2026-05-01T10:00")', "add one, such as 2026-05-01T10:00+08:00"),
    ('datetime("tomorrow")', "ISO 8601 date-time"),
    ('date(acceptance_date) < datetime(go_live)', "can't compare"),
    ('today("../../etc/passwd")', "unknown time zone"),
    ('now("Mars/Olympus")', "unknown time zone"),
    ("days(3)", "takes a duration"),
    ("year(kickoff)", "takes a date"),
    ("date(kickoff) ** 2", "operator '**'"),
    ("len(date(kickoff))", "len()"),
    ("sum([duration('P1D')])", "sum()"),
])
def test_bad_dates_and_durations_fail_clearly(text, complaint):
    with pytest.raises(ExpressionError) as info:
        evaluate(text, FORM)
    assert complaint in str(info.value)
    assert "column" in str(info.value)


@pytest.mark.parametrize("text", [
    "date(kickoff).__class__", "date.__globals__", "date(kickoff).replace(year=1)",
    "today().fromisoformat('x')", "duration('P1D').max",
])
def test_date_values_offer_no_attributes(text):
    with pytest.raises(ExpressionError) as info:
        evaluate(text, FORM)
    assert "attribute access" in str(info.value)


def test_date_functions_are_no_values():
    with pytest.raises(ExpressionError, match="Unknown name 'date'"):
        evaluate("[date]", FORM)


def test_assignments_store_dates_and_durations_as_iso_text():
    with clock.frozen(NOON_UTC):
        results = run_assignments(
            "due = date(acceptance_date) - duration('P2D')\n"
            "window = days(due - date(kickoff))\n"
            "slack = due - date(kickoff)\n"
            "marks = [now(), {'at': datetime(go_live)}]\n"
            "late = -duration('PT90M')\n", FORM, zone="Asia/Shanghai")
    assert results == {"due": "2026-05-02", "window": 5, "slack": "P5D",
                       "marks": ["2026-05-02T04:00:00+08:00", {"at": "2026-05-01T10:00:00+08:00"}],
                       "late": "-PT1H30M"}
    json.dumps(results)  # what the engine stores in instance.data
    assert evaluate("date(due) - date(kickoff) == duration(slack)", {**FORM, **results})


def test_today_without_a_zone_is_the_installations_day():
    from andon import temporal

    late_evening_utc = datetime(2026, 5, 1, 20, 30, tzinfo=UTC)  # already 2 May in Shanghai
    with clock.frozen(late_evening_utc):
        assert evaluate('today() == date("2026-05-01")', {})  # tests run in UTC
        temporal.use_installation_zone("Asia/Shanghai")  # as create_app does from the config
        assert evaluate('today() == date("2026-05-02")', {})
        assert evaluate('today("UTC") == date("2026-05-01")', {})
