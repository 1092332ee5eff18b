"""Business calendars: the working days and hours that per-step deadlines count.

A calendar has a time zone, the working periods of a working day (09:00–12:00
and 13:30–18:00, say), weekend days, and two lists of dates that override the
week: holidays (days off) and make-up working days (调休上班, working days that
fall on a weekend).

Durations are ISO 8601: ``P3D``, ``PT4H``, ``PT30M``, ``P1DT4H``, ``P2W``. A week
is seven days, so ``P2W`` counts fourteen working days in working time.

In calendar time, :meth:`Calendar.add` adds the days on the calendar's wall
clock and the rest as elapsed time. In working time it applies these rules,
in order, like the working-time business calendars of Camunda and Flowable:

1. A start outside working time moves to the next working moment: Friday
   19:00 and Saturday 10:00 both become Monday 09:00; 12:30 becomes 13:30.
2. Whole days advance that many working days and keep the local time of day:
   Friday 10:00 plus ``P3D`` is Wednesday 10:00. After rule 1 the time of day
   lies inside a working period, and every working day has the same periods,
   so it lies inside one on the day reached too.
3. Hours, minutes and seconds are consumed only inside working periods,
   skipping lunch breaks, nights, weekends and holidays.
4. A deadline that falls exactly where a working period begins is given as the
   end of the working period before it. No working time lies between the two,
   and one working day from Friday evening reads "Monday 18:00", not
   "Tuesday 09:00".

Both methods take aware datetimes in any time zone (naive ones raise
ValueError); :meth:`Calendar.add` returns UTC.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from andon.errors import InvalidDefinition
from andon.i18n import N_

DURATION = re.compile(
    r"^P(?:(?P<weeks>\d+)W|(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?)$",
    re.IGNORECASE)
TIME = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d$")
WEEKEND = frozenset({5, 6})
SEARCH_DAYS = 3660  # how far to look for working time before calling a calendar empty
KEYS = ("key", "name", "timezone", "hours", "weekend", "holidays", "workdays", "source", "note")

Problems = list[tuple[str, str]]
Period = tuple[datetime, datetime]


@dataclass(frozen=True)
class Duration:
    """A span of whole days and a remainder in seconds."""

    days: int
    seconds: int


def parse_duration(text: str) -> Duration:
    """Parse an ISO 8601 duration; raise ValueError naming the text if it is not one."""
    match = DURATION.match(text.strip())
    if match is None or not any(match.groups()):
        raise ValueError(f"{text!r} is not an ISO 8601 duration such as P3D, PT4H, PT30M, "
                         "P1DT4H or P2W (years and months are not supported)")
    part = {name: int(value or 0) for name, value in match.groupdict().items()}
    duration = Duration(part["weeks"] * 7 + part["days"],
                        part["hours"] * 3600 + part["minutes"] * 60 + part["seconds"])
    if duration.days == 0 and duration.seconds == 0:
        raise ValueError(f"the duration {text!r} must be longer than zero")
    return duration


@dataclass(frozen=True)
class Calendar:
    """Working days and hours in one time zone."""

    key: str
    name: dict[str, str]
    timezone: str
    hours: tuple[tuple[time, time], ...]
    weekend: frozenset[int] = WEEKEND
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()

    @property
    def zone(self) -> ZoneInfo:
        """Return the calendar's time zone."""
        return ZoneInfo(self.timezone)

    def is_working_day(self, day: date) -> bool:
        """Say whether people work on this day."""
        if day in self.workdays:
            return True
        return day not in self.holidays and day.weekday() not in self.weekend

    def add(self, start: datetime, duration: Duration, working: bool = True) -> datetime:
        """Return the moment ``duration`` after ``start`` in UTC (see the module's rules)."""
        local = _aware(start).astimezone(self.zone)
        if not working:
            wall = local + timedelta(days=duration.days)
            return wall.astimezone(UTC) + timedelta(seconds=duration.seconds)
        begin = self._next_moment(local.astimezone(UTC))
        end = self._consume(self._add_days(begin, duration.days), duration.seconds)
        return self._settle(end) if end > begin else end

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Return the working time from start to end, negative if end comes first."""
        first, last = _aware(start).astimezone(UTC), _aware(end).astimezone(UTC)
        if last < first:
            return -self.working_time_between(end, start)
        total = timedelta()
        for begin, finish in self._periods_from(first):
            if begin >= last:
                break
            total += min(finish, last) - begin
        return total

    def _periods(self, day: date) -> list[Period]:
        """Return a day's working periods as UTC moments; none on a day off."""
        if not self.is_working_day(day):
            return []
        return [(self._moment(day, begin), self._moment(day, end)) for begin, end in self.hours]

    def _periods_from(self, at: datetime) -> Iterator[Period]:
        """Yield the working time after ``at``, period by period, for SEARCH_DAYS days."""
        day = at.astimezone(self.zone).date()
        for offset in range(SEARCH_DAYS):
            for begin, end in self._periods(day + timedelta(days=offset)):
                if end > at:
                    yield max(begin, at), end

    def _next_moment(self, at: datetime) -> datetime:
        """Return ``at`` if it is working time, else the next moment that is."""
        for begin, _ in self._periods_from(at):
            return begin
        raise self._empty(at)

    def _add_days(self, at: datetime, days: int) -> datetime:
        """Advance ``days`` working days, keeping the local time of day."""
        local = at.astimezone(self.zone)
        day = local.date()
        for _ in range(days):
            day = self._working_day(day, 1)
        return self._moment(day, local.time())

    def _consume(self, at: datetime, seconds: int) -> datetime:
        """Return the moment ``seconds`` of working time after ``at``."""
        left = timedelta(seconds=seconds)
        for begin, end in self._periods_from(at):
            if left <= end - begin:
                return begin + left
            left -= end - begin
        raise self._empty(at)

    def _settle(self, at: datetime) -> datetime:
        """Move a moment at the start of a working period to the end of the one before."""
        local = at.astimezone(self.zone)
        starts = [begin for begin, _ in self.hours]
        if local.time() not in starts:
            return at
        index = starts.index(local.time())
        if index:
            return self._moment(local.date(), self.hours[index - 1][1])
        return self._moment(self._working_day(local.date(), -1), self.hours[-1][1])

    def _working_day(self, day: date, step: int) -> date:
        """Return the next (step 1) or previous (step -1) working day."""
        for _ in range(SEARCH_DAYS):
            day += timedelta(days=step)
            if self.is_working_day(day):
                return day
        raise ValueError(f"the calendar {self.key} has no working day near {day}")

    def _moment(self, day: date, at: time) -> datetime:
        """Return the UTC moment of a local date and time of day."""
        return datetime.combine(day, at, tzinfo=self.zone).astimezone(UTC)

    def _empty(self, at: datetime) -> ValueError:
        """Return the error for a calendar without working time after ``at``."""
        return ValueError(f"the calendar {self.key} has no working time "
                          f"within {SEARCH_DAYS} days of {at.isoformat()}")


def _aware(value: datetime) -> datetime:
    """Return ``value`` if it carries a time zone; raise ValueError if it is naive."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{value.isoformat()} has no time zone")
    return value


def load_calendar(data: dict[str, Any], filename: str) -> Calendar:
    """Check a calendar definition and return it, or raise naming each JSON path."""
    if not isinstance(data, dict):
        _reject(filename, [("$", "must be an object")])
    problems: Problems = [(f"$.{key}", f"unknown key; expected one of {', '.join(KEYS)}")
                          for key in data if key not in KEYS]
    calendar = Calendar(
        key=_key(data.get("key"), problems),
        name=_name(data.get("name"), problems),
        timezone=_timezone(data.get("timezone"), problems),
        hours=_hours(data.get("hours"), problems),
        weekend=_weekend(data.get("weekend", sorted(WEEKEND)), problems),
        holidays=_dates(data.get("holidays", []), "$.holidays", problems),
        workdays=_dates(data.get("workdays", []), "$.workdays", problems),
    )
    problems += [(f"$.workdays[{index}]", f"{text} is listed as a holiday too")
                 for index, text in enumerate(data.get("workdays") or [])
                 if _date(text) in calendar.holidays]
    if problems:
        _reject(filename, problems)
    return calendar


def _reject(filename: str, problems: Problems) -> NoReturn:
    """Raise InvalidDefinition naming the file in each problem's location."""
    raise InvalidDefinition(N_("The calendar %(file)s is not valid."), file=filename,
                            problems=[(f"{filename}: {path}", what) for path, what in problems])


def _key(value: Any, problems: Problems) -> str:
    """Check the calendar's key."""
    if not isinstance(value, str) or not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", value):
        problems.append(("$.key", "must be lower-case letters, digits, - and _"))
        return ""
    return value


def _name(value: Any, problems: Problems) -> dict[str, str]:
    """Check the calendar's name in English and Simplified Chinese."""
    if not isinstance(value, dict):
        problems.append(("$.name", "must be an object with en and zh-CN"))
        return {}
    for locale in ("en", "zh-CN"):
        if not isinstance(value.get(locale), str) or not value[locale].strip():
            problems.append((f"$.name.{locale}", "must be a non-empty text"))
    return dict(value)


def _timezone(value: Any, problems: Problems) -> str:
    """Check that the time zone is one the tz database knows."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, TypeError, ValueError):
        problems.append(("$.timezone", f"{value!r} is not a known time zone "
                                       "such as Asia/Shanghai"))
        return "UTC"
    return str(value)


def _hours(value: Any, problems: Problems) -> tuple[tuple[time, time], ...]:
    """Check the working periods: [start, end] pairs, in order, not overlapping."""
    if not isinstance(value, list) or not value:
        problems.append(("$.hours", "must list working periods like [\"09:00\", \"12:00\"]"))
        return ()
    periods: list[tuple[time, time]] = []
    for index, pair in enumerate(value):
        period = _period(pair, f"$.hours[{index}]", problems)
        if period and periods and period[0] < periods[-1][1]:
            problems.append((f"$.hours[{index}]", "starts before the period before it ends "
                             f"at {periods[-1][1]:%H:%M}"))
        elif period:
            periods.append(period)
    return tuple(periods)


def _period(pair: Any, path: str, problems: Problems) -> tuple[time, time] | None:
    """Check one working period and return it, or None if it is not valid."""
    if not isinstance(pair, list) or len(pair) != 2:
        problems.append((path, "must be a pair like [\"09:00\", \"12:00\"]"))
        return None
    begin, end = (_time(text, f"{path}[{index}]", problems) for index, text in enumerate(pair))
    if begin is None or end is None:
        return None
    if end <= begin:
        problems.append((path, f"ends at {end:%H:%M}, not after it starts at {begin:%H:%M}"))
        return None
    return begin, end


def _time(text: Any, path: str, problems: Problems) -> time | None:
    """Parse a time of day written HH:MM."""
    if not isinstance(text, str) or not TIME.match(text):
        problems.append((path, f"{text!r} is not a time of day like 09:00"))
        return None
    return time.fromisoformat(text)


def _weekend(value: Any, problems: Problems) -> frozenset[int]:
    """Check the weekend: weekday numbers, Monday 0 to Sunday 6, not all seven."""
    if not isinstance(value, list):
        problems.append(("$.weekend", "must list weekday numbers, Monday 0 to Sunday 6"))
        return WEEKEND
    days = set()
    for index, day in enumerate(value):
        if isinstance(day, int) and not isinstance(day, bool) and 0 <= day <= 6:
            days.add(day)
        else:
            problems.append((f"$.weekend[{index}]", f"{day!r} is not a weekday number 0–6"))
    if len(days) == 7:
        problems.append(("$.weekend", "leaves no working day in the week"))
    return frozenset(days)


def _dates(value: Any, path: str, problems: Problems) -> frozenset[date]:
    """Check a list of dates written YYYY-MM-DD."""
    if not isinstance(value, list):
        problems.append((path, "must list dates like 2026-01-01"))
        return frozenset()
    days = set()
    for index, text in enumerate(value):
        day = _date(text)
        if day is None:
            problems.append((f"{path}[{index}]", f"{text!r} is not a date like 2026-01-01"))
        else:
            days.add(day)
    return frozenset(days)


def _date(text: Any) -> date | None:
    """Parse a date written YYYY-MM-DD, or return None."""
    if not isinstance(text, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None
