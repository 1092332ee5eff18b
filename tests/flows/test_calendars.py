"""Business calendars count deadlines in working days and hours, around holidays."""

import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from andon.errors import InvalidDefinition
from andon.flows.calendars import Calendar, Duration, load_calendar, parse_duration

SHIPPED = Path(__file__).resolve().parents[2] / "definitions" / "calendars" / "cn-mainland.json"
SHANGHAI = ZoneInfo("Asia/Shanghai")
PLAIN = Calendar("plain", {"en": "Plain", "zh-CN": "普通"}, "Asia/Shanghai",
                 ((time(9), time(12)), (time(13, 30), time(18))))


def at(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """Return a moment on the Shanghai wall clock."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def shipped() -> dict[str, Any]:
    """Return the shipped mainland China calendar as JSON data."""
    return json.loads(SHIPPED.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def cn() -> Calendar:
    """The shipped mainland China calendar."""
    return load_calendar(shipped(), SHIPPED.name)


def days(first: str, last: str) -> set[date]:
    """Return every date from first to last, both included."""
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return {start + timedelta(days=n) for n in range((end - start).days + 1)}


@pytest.mark.parametrize(("text", "expected"), [
    ("P3D", Duration(3, 0)),
    ("PT4H", Duration(0, 4 * 3600)),
    ("PT30M", Duration(0, 1800)),
    ("P1DT4H", Duration(1, 4 * 3600)),
    ("P2W", Duration(14, 0)),
    ("p1dt2h30m", Duration(1, 2 * 3600 + 1800)),
    ("PT90S", Duration(0, 90)),
])
def test_durations_parse(text: str, expected: Duration) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "3D", "P", "PT", "P1DT", "P1M", "P1Y", "P1.5D",
                                  "-P1D", "PT-4H", "P1W2D", "PT0H", "P0D", "P0DT0M"])
def test_bad_or_empty_durations_are_refused_naming_the_text(text: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_duration(text)
    assert repr(text) in str(info.value)


def test_working_days_keep_the_time_of_day() -> None:
    # Friday 10:00 + 3 working days: Monday, Tuesday, Wednesday.
    assert PLAIN.add(at(2026, 3, 6, 10), parse_duration("P3D")) == at(2026, 3, 11, 10)


def test_working_hours_skip_the_night_weekend_and_lunch() -> None:
    friday = at(2026, 3, 6, 16)
    assert PLAIN.add(friday, parse_duration("PT4H")) == at(2026, 3, 9, 11)
    assert PLAIN.add(friday, parse_duration("PT5H")) == at(2026, 3, 9, 12)
    assert PLAIN.add(friday, parse_duration("PT6H")) == at(2026, 3, 9, 14, 30)
    assert PLAIN.add(at(2026, 3, 9, 11), parse_duration("PT1H30M")) == at(2026, 3, 9, 14)


def test_days_and_hours_combine() -> None:
    # Friday 16:00 + 1 working day = Monday 16:00, + 3 hours = Tuesday 10:00.
    assert PLAIN.add(at(2026, 3, 6, 16), parse_duration("P1DT3H")) == at(2026, 3, 10, 10)


def test_a_deadline_ending_with_a_period_is_not_pushed_past_the_break() -> None:
    assert PLAIN.add(at(2026, 3, 9, 9), parse_duration("PT3H")) == at(2026, 3, 9, 12)
    assert PLAIN.add(at(2026, 3, 6, 14), parse_duration("PT4H")) == at(2026, 3, 6, 18)


def test_start_outside_working_hours_moves_to_the_next_working_moment() -> None:
    assert PLAIN.add(at(2026, 3, 6, 19), parse_duration("PT2H")) == at(2026, 3, 9, 11)
    assert PLAIN.add(at(2026, 3, 7, 10), parse_duration("PT1H")) == at(2026, 3, 9, 10)
    assert PLAIN.add(at(2026, 3, 9, 7), parse_duration("PT30M")) == at(2026, 3, 9, 9, 30)
    assert PLAIN.add(at(2026, 3, 9, 12, 30), parse_duration("PT1H")) == at(2026, 3, 9, 14, 30)


def test_one_working_day_from_friday_evening_is_the_end_of_monday() -> None:
    assert PLAIN.add(at(2026, 3, 6, 19), parse_duration("P1D")) == at(2026, 3, 9, 18)
    assert PLAIN.add(at(2026, 3, 7, 11), parse_duration("P2D")) == at(2026, 3, 10, 18)


def test_spring_festival_2026_is_skipped_and_saturday_14_february_counts(
        cn: Calendar) -> None:
    start = at(2026, 2, 13, 10)
    assert cn.add(start, parse_duration("P1D")) == at(2026, 2, 14, 10)
    assert cn.add(start, parse_duration("P2D")) == at(2026, 2, 24, 10)
    assert PLAIN.add(start, parse_duration("P2D")) == at(2026, 2, 17, 10)
    assert cn.add(at(2026, 2, 13, 17), parse_duration("PT9H")) == at(2026, 2, 24, 9, 30)


def test_make_up_sunday_4_january_2026_is_a_working_day(cn: Calendar) -> None:
    assert cn.is_working_day(date(2026, 1, 4))
    assert not cn.is_working_day(date(2026, 1, 3))
    assert not cn.is_working_day(date(2026, 1, 11))
    assert cn.add(at(2025, 12, 31, 10), parse_duration("P1D")) == at(2026, 1, 4, 10)
    assert cn.add(at(2025, 12, 31, 17), parse_duration("PT2H")) == at(2026, 1, 4, 10)


def test_working_time_between_skips_weekends_holidays_and_lunch(cn: Calendar) -> None:
    assert PLAIN.working_time_between(at(2026, 3, 6, 16), at(2026, 3, 9, 11)) == timedelta(
        hours=4)
    labour_day = cn.working_time_between(at(2026, 4, 30, 17), at(2026, 5, 6, 10))
    assert labour_day == timedelta(hours=2)
    assert cn.working_time_between(at(2026, 5, 6, 10), at(2026, 4, 30, 17)) == -labour_day
    assert PLAIN.working_time_between(at(2026, 3, 9, 11), at(2026, 3, 9, 14)) == timedelta(
        hours=1, minutes=30)
    assert PLAIN.working_time_between(at(2026, 3, 7, 9), at(2026, 3, 8, 18)) == timedelta()


def test_add_and_working_time_between_agree(cn: Calendar) -> None:
    start = at(2026, 9, 24, 15)
    end = cn.add(start, parse_duration("PT20H"))
    assert cn.working_time_between(start, end) == timedelta(hours=20)


def test_calendar_time_is_plain_addition(cn: Calendar) -> None:
    start = at(2026, 2, 13, 16)
    assert cn.add(start, parse_duration("P1DT4H"), working=False) == at(2026, 2, 14, 20)
    assert cn.add(start, parse_duration("PT30M"), working=False) == at(2026, 2, 13, 16, 30)


def test_any_time_zone_in_utc_out_and_naive_refused() -> None:
    result = PLAIN.add(datetime(2026, 3, 6, 2, tzinfo=UTC), parse_duration("P3D"))
    assert result == datetime(2026, 3, 11, 2, tzinfo=UTC)
    assert result.utcoffset() == timedelta(0)
    with pytest.raises(ValueError, match="no time zone"):
        PLAIN.add(datetime(2026, 3, 6, 10), parse_duration("P1D"))
    with pytest.raises(ValueError, match="no time zone"):
        PLAIN.working_time_between(datetime(2026, 3, 6, 10), at(2026, 3, 6, 11))


def test_shipped_calendar_has_every_2026_holiday_and_make_up_day(cn: Calendar) -> None:
    holidays = (days("2026-01-01", "2026-01-03") | days("2026-02-15", "2026-02-23")
                | days("2026-04-04", "2026-04-06") | days("2026-05-01", "2026-05-05")
                | days("2026-06-19", "2026-06-21") | days("2026-09-25", "2026-09-27")
                | days("2026-10-01", "2026-10-07"))
    workdays = {date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28), date(2026, 5, 9),
                date(2026, 9, 20), date(2026, 10, 10)}
    assert {d for d in cn.holidays if d.year == 2026} == holidays
    assert {d for d in cn.workdays if d.year == 2026} == workdays
    assert (cn.key, cn.timezone, cn.name["zh-CN"]) == ("cn-mainland", "Asia/Shanghai",
                                                        "中国大陆工作日")
    assert cn.hours == ((time(9), time(12)), (time(13, 30), time(18)))
    assert "2026年部分节假日安排" in shipped()["source"]


def test_shipped_calendar_has_the_2025_arrangements(cn: Calendar) -> None:
    assert days("2025-01-28", "2025-02-04") | days("2025-10-01", "2025-10-08") <= cn.holidays
    assert {date(2025, 1, 26), date(2025, 2, 8), date(2025, 4, 27), date(2025, 9, 28),
            date(2025, 10, 11)} <= cn.workdays
    assert all(d.weekday() in (5, 6) for d in cn.workdays)


def problems_of(**changes: Any) -> list[tuple[str, str]]:
    """Return the problems load_calendar reports for the shipped file with changes."""
    data = {**shipped(), **changes}
    with pytest.raises(InvalidDefinition) as info:
        load_calendar(data, "cal.json")
    assert "cal.json" in str(info.value)
    return info.value.problems


@pytest.mark.parametrize(("changes", "path"), [
    ({"hours": [["09:00", "25:00"]]}, "$.hours[0][1]"),
    ({"hours": [["9h", "12:00"]]}, "$.hours[0][0]"),
    ({"hours": [["12:00", "09:00"]]}, "$.hours[0]"),
    ({"hours": [["09:00", "12:00"], ["11:30", "18:00"]]}, "$.hours[1]"),
    ({"hours": [["13:30", "18:00"], ["09:00", "12:00"]]}, "$.hours[1]"),
    ({"hours": []}, "$.hours"),
    ({"timezone": "Asia/Beijing"}, "$.timezone"),
    ({"workdays": ["2026-01-04", "2026-02-15"]}, "$.workdays[1]"),
    ({"holidays": ["2026-02-30"]}, "$.holidays[0]"),
    ({"weekend": [5, 7]}, "$.weekend[1]"),
    ({"weekend": [0, 1, 2, 3, 4, 5, 6]}, "$.weekend"),
    ({"name": {"en": "Only English"}}, "$.name.zh-CN"),
    ({"key": "CN Mainland"}, "$.key"),
    ({"holiday": []}, "$.holiday"),
])
def test_invalid_calendar_names_the_json_path(changes: dict[str, Any], path: str) -> None:
    assert [where for where, _ in problems_of(**changes)] == [f"cal.json: {path}"]


def test_every_problem_is_reported_at_once() -> None:
    problems = problems_of(timezone="Mars/Olympus", hours=[["09:00", "12:60"]])
    assert [where for where, _ in problems] == ["cal.json: $.timezone", "cal.json: $.hours[0][1]"]
    assert "'Mars/Olympus'" in problems[0][1]
