"""Times as people say them: durations (``2d``, ``1d 4h``, ``3天``) and timer events' schedules.

The designer's panel shows ISO 8601 durations as ``1d 4h`` and reads them back
(``to_iso``, ``friendly``), and sets a BPMN timer event in plain terms: after a
time, every N weeks on a weekday at a time of day, or at a date and time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from lxml import etree

from andon.flows.calendars import parse_duration
from andon.flows.elements import BPMN_NS, NS
from andon.i18n import N_, Message

UNITS = {"w": 7 * 86400, "week": 7 * 86400, "weeks": 7 * 86400, "周": 7 * 86400,
         "d": 86400, "day": 86400, "days": 86400, "天": 86400,
         "h": 3600, "hour": 3600, "hours": 3600, "小时": 3600, "时": 3600,
         "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60, "分钟": 60, "分": 60}
FRIENDLY = re.compile(r"(\d+)\s*(weeks|week|w|周|days|day|d|天|hours|hour|h|小时|时|"
                      r"minutes|minute|mins|min|m|分钟|分)", re.IGNORECASE)
WEEKDAYS = (N_("Monday"), N_("Tuesday"), N_("Wednesday"), N_("Thursday"), N_("Friday"),
            N_("Saturday"), N_("Sunday"))

def to_iso(text: str) -> str:
    """Return an ISO 8601 duration for ``2d``, ``4h``, ``1d 4h``, ``3天`` (or ISO itself)."""
    text = text.strip()
    if text.upper().startswith("P"):
        parse_duration(text.upper())
        return text.upper()
    seconds, rest = 0, text
    for amount, unit in FRIENDLY.findall(text):
        seconds += int(amount) * UNITS[unit.lower()]
    rest = FRIENDLY.sub("", text).replace(",", "").strip()
    if rest or seconds <= 0:
        raise ValueError(text)
    days, seconds = divmod(seconds, 86400)
    hours, seconds = divmod(seconds, 3600)
    minutes = seconds // 60
    clock = "".join(f"{n}{u}" for n, u in ((hours, "H"), (minutes, "M")) if n)
    return "P" + (f"{days}D" if days else "") + (f"T{clock}" if clock else "")


def friendly(iso: str) -> str:
    """Return an ISO 8601 duration the way the panel shows it (``P1DT4H`` → ``1d 4h``)."""
    try:
        span = parse_duration(iso)
    except ValueError:
        return iso
    hours, rest = divmod(span.seconds, 3600)
    parts = [(span.days, "d"), (hours, "h"), (rest // 60, "m")]
    return " ".join(f"{n}{u}" for n, u in parts if n) or "0h"


# ---- reading an element --------------------------------------------------------------------

def timer_values(timer: Any, values: dict[str, str]) -> str | None:
    """Fill a timer event's panel values: a duration, a weekly cycle or a date; return its kind."""
    kind = None
    for tag in ("timeDuration", "timeCycle", "timeDate"):
        found = timer.find(f"bpmn:{tag}", NS)
        if found is not None:
            kind = tag
            text = (found.text or "").strip().strip("\"'")
            values["timer_text"] = text
            if tag == "timeDuration":
                values["timer_duration"] = friendly(text)
            elif tag == "timeCycle":
                cycle = re.fullmatch(r"R/(\d{4}-\d\d-\d\d)T(\d\d:\d\d)(?::\d\d)?([^/]*)/P(\d+)"
                                     r"([WD])", text)
                if cycle:
                    first = date.fromisoformat(cycle[1])
                    values.update(cycle_every=cycle[4], cycle_unit=cycle[5],
                                  cycle_weekday=str(first.weekday()), cycle_time=cycle[2],
                                  cycle_offset=cycle[3] or "+08:00")
            else:
                values["timer_date"] = text
    values.setdefault("timer_duration", "")
    return kind


# ---- applying the panel -------------------------------------------------------------------

def apply_timer(timer: Any, posted: Mapping[str, Any], today: date,
                 errors: dict[str, Message]) -> None:
    """Write a timer event's definition from its panel inputs."""
    kind = str(posted.get("timer_kind", ""))
    if kind == "duration":
        try:
            text = to_iso(str(posted.get("timer_duration", "")))
        except ValueError:
            errors["timer_duration"] = Message(N_("Write a time such as 2d, 4h or 1d 4h."))
            return
        tag = "timeDuration"
    elif kind == "cycle":
        every = str(posted.get("cycle_every", "")).strip()
        unit = "W" if posted.get("cycle_unit") != "D" else "D"
        weekday = str(posted.get("cycle_weekday", "0"))
        at = str(posted.get("cycle_time", "")).strip()
        offset = str(posted.get("cycle_offset", "+08:00")).strip() or "+08:00"
        if not every.isdigit() or int(every) < 1:
            errors["cycle_every"] = Message(N_("Enter a whole number of 1 or more."))
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", at):
            errors["cycle_time"] = Message(N_("Write the time of day as HH:MM, e.g. 10:00."))
        if not re.fullmatch(r"[+-]\d\d:\d\d", offset):
            errors["cycle_offset"] = Message(N_("Write the UTC offset as +08:00."))
        if errors:
            return
        first = today + timedelta(days=(int(weekday) - today.weekday()) % 7 if unit == "W"
                                  else 0)
        text = f"R/{first.isoformat()}T{at}:00{offset}/P{int(every)}{unit}"
        tag = "timeCycle"
    elif kind == "date":
        text = str(posted.get("timer_date", "")).strip()
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            errors["timer_date"] = Message(N_(
                "Write a date and time with its UTC offset, e.g. 2026-12-01T09:00:00+08:00."))
            return
        tag = "timeDate"
    else:
        return
    for child in list(timer):
        timer.remove(child)
    definition = etree.SubElement(timer, f"{{{BPMN_NS}}}{tag}")
    definition.text = f'"{text}"'


def cycle_words(values: Mapping[str, str]) -> tuple[str, dict[str, Any]] | None:
    """Return a weekly or daily cycle in plain words (message id and parameters), if any."""
    if not values.get("cycle_every"):
        return None
    clock = time.fromisoformat(values.get("cycle_time", "00:00"))
    if values.get("cycle_unit") == "D":
        return N_("every %(count)s day(s) at %(time)s"), {
            "count": values["cycle_every"], "time": clock.strftime("%H:%M")}
    return N_("every %(count)s week(s) on %(weekday)s at %(time)s"), {
        "count": values["cycle_every"], "weekday": WEEKDAYS[int(values["cycle_weekday"])],
        "time": clock.strftime("%H:%M")}


# ---- writing names and properties -------------------------------------------------------------
