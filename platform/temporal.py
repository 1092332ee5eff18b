"""Dates, date-times and durations for the expression language.

Values are Python's ``date``, aware ``datetime`` and ``timedelta``; expressions
build them only through the functions in :data:`FUNCTIONS` and never reach
their attributes. Text is ISO 8601 both ways: ``date("2026-05-01")``,
``datetime("2026-05-01T10:00+08:00")``, ``duration("P2DT4H")``; :func:`to_json`
turns results back into that text, so task data stays JSON. The time comes
from :func:`andon.clock.now`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from andon import clock

MAX_TEXT = 64
DURATION = re.compile(
    r"^(?P<sign>-)?P(?:(?P<weeks>\d{1,7})W)?(?:(?P<days>\d{1,9})D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d{1,9})H)?(?:(?P<minutes>\d{1,9})M)?"
    r"(?:(?P<seconds>\d{1,9})S)?)?$")
CALENDAR_UNITS = re.compile(r"^-?P(?:\d+Y)?(?:\d+M)?(?:\d+[WD])?(?:T.*)?$")
TEMPORAL = (date, timedelta)  # datetime is a date

_zone: ContextVar[tzinfo | None] = ContextVar("zone", default=None)
_installation_zone: tzinfo = UTC


def use_installation_zone(where: Any) -> None:
    """Set the zone of today() and now() where no evaluation names one (ANDON_TIMEZONE)."""
    global _installation_zone
    _installation_zone = zone(where)


def current_zone() -> tzinfo:
    """Return the zone of this evaluation, else the installation's."""
    return _zone.get() or _installation_zone


@contextmanager
def local_time(where: Any) -> Iterator[None]:
    """Make today(), now() and datetime(a_date) use a time zone inside the block."""
    token = _zone.set(None if where is None else zone(where))
    try:
        yield
    finally:
        _zone.reset(token)


def _text(name: str, value: Any) -> str:
    """Return ``value`` as short text, or refuse it for function ``name``."""
    if not isinstance(value, str):
        raise TypeError(f"{name}() takes text, not {type(value).__name__}")
    if len(value) > MAX_TEXT:
        raise ValueError(f"{name}() takes at most {MAX_TEXT} characters")
    return value.strip()


@lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    """Return the IANA time zone names this machine knows."""
    return frozenset(available_timezones())


def zone(value: Any) -> tzinfo:
    """Return a time zone from an IANA name (``Asia/Shanghai``), ``UTC``, or a tzinfo."""
    if isinstance(value, tzinfo):
        return value
    name = _text("zone", value)
    if name.upper() in ("UTC", "Z"):
        return UTC
    if name not in _zone_names():
        raise ValueError(f"unknown time zone {name!r}; use a name such as 'Asia/Shanghai'")
    return ZoneInfo(name)


def to_date(value: Any) -> date:
    """Return a date from ``YYYY-MM-DD`` text, a date, or a date-time (its own local date)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text("date", value)
    if not re.fullmatch(r"\d{4}-\d\d-\d\d", text):
        raise ValueError(f"date() takes a date written YYYY-MM-DD, not {text!r}")
    return date.fromisoformat(text)


def to_datetime(value: Any, where: Any = None) -> datetime:
    """Return an aware date-time from ISO text with an offset, or a date's midnight in a zone."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        where = current_zone() if where is None else where
        return datetime.combine(value, datetime.min.time(), tzinfo=zone(where))
    text = _text("datetime", value)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"datetime() takes an ISO 8601 date-time such as "
                         f"2026-05-01T10:00+08:00, not {text!r}") from None
    if moment.tzinfo is None:
        if where is None:
            raise ValueError(f"{text!r} has no UTC offset; add one, such as {text}+08:00")
        moment = moment.replace(tzinfo=zone(where))
    return moment


def to_duration(value: Any) -> timedelta:
    """Return a duration from ISO 8601 text (``P2D``, ``PT4H``, ``P1W``, ``-P1D``) or itself."""
    if isinstance(value, timedelta):
        return value
    text = _text("duration", value).upper()
    match = DURATION.match(text)
    if match is None or not any(v for k, v in match.groupdict().items() if k != "sign"):
        if CALENDAR_UNITS.match(text) and ("Y" in text or "M" in text.split("T")[0]):
            raise ValueError(f"{text!r}: years and months have no fixed length; use days")
        raise ValueError(f"duration() takes an ISO 8601 duration such as P2D, PT4H or P1DT30M, "
                         f"not {text!r}")
    part = {name: int(number or 0) for name, number in match.groupdict().items()
            if name != "sign"}
    span = timedelta(weeks=part["weeks"], days=part["days"], hours=part["hours"],
                     minutes=part["minutes"], seconds=part["seconds"])
    return -span if match.group("sign") else span


def format_duration(span: timedelta) -> str:
    """Write a duration as ISO 8601 (``P2DT4H``, ``-PT30M``, ``PT0S``)."""
    sign, span = ("-", -span) if span < timedelta(0) else ("", span)
    days, rest = span.days, span.seconds
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    clock_part = "".join(f"{number}{unit}" for number, unit in
                         ((hours, "H"), (minutes, "M")) if number)
    if seconds or span.microseconds:
        fraction = f".{span.microseconds:06d}".rstrip("0") if span.microseconds else ""
        clock_part += f"{seconds}{fraction}S"
    text = (f"{days}D" if days else "") + (f"T{clock_part}" if clock_part else "")
    return f"{sign}P{text or 'T0S'}"


def to_json(value: Any) -> Any:
    """Replace dates, date-times and durations (also inside lists and dicts) with ISO text."""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return format_duration(value)
    if isinstance(value, (list, tuple)):
        return [to_json(item) for item in value]
    if isinstance(value, dict):
        return {key: to_json(item) for key, item in value.items()}
    return value


def today(where: Any = None) -> date:
    """Return today's date in a time zone (the evaluation's own unless given)."""
    return now(where).date()


def now(where: Any = None) -> datetime:
    """Return the current moment, shown in a time zone (the evaluation's own unless given)."""
    return clock.now().astimezone(current_zone() if where is None else zone(where))


def _span(name: str, unit: timedelta) -> Callable[[Any], int | float]:
    """Return a function giving a duration's length in ``unit``, whole when it divides."""
    def call(value: Any) -> int | float:
        if not isinstance(value, timedelta):
            raise TypeError(f"{name}() takes a duration, e.g. {name}(date(b) - date(a))")
        whole, rest = divmod(value, unit)
        return whole if not rest else value / unit
    return call


def _part(name: str, pick: Callable[[date], int]) -> Callable[[Any], int]:
    """Return a function giving one part of a date or date-time."""
    def call(value: Any) -> int:
        if not isinstance(value, date):
            raise TypeError(f"{name}() takes a date or datetime, e.g. {name}(date(field))")
        return pick(value)
    return call


def add(left: Any, right: Any) -> None:
    """Refuse adding a duration with hours to a plain date, which Python would drop silently."""
    for one, other in ((left, right), (right, left)):
        if isinstance(one, date) and not isinstance(one, datetime) \
                and isinstance(other, timedelta) and (other.seconds or other.microseconds):
            raise TypeError("a date moves by whole days; use datetime() to add hours")


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "date": to_date, "datetime": to_datetime, "duration": to_duration,
    "today": today, "now": now,
    "days": _span("days", timedelta(days=1)), "hours": _span("hours", timedelta(hours=1)),
    "minutes": _span("minutes", timedelta(minutes=1)),
    "year": _part("year", lambda d: d.year), "month": _part("month", lambda d: d.month),
    "day": _part("day", lambda d: d.day), "weekday": _part("weekday", lambda d: d.isoweekday()),
}
