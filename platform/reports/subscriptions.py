"""Digest subscriptions: a reader asks for a dashboard's numbers by email, weekly or monthly.

A weekly digest goes on a day of the week, a monthly one on a day of the month
(the month's last day when it is shorter), at 08:00 in the subscriber's time zone
and in their language. Each covers the period just before its day: the seven days
before a weekly one, the month before a monthly one.
"""

from __future__ import annotations

import calendar
import secrets
from datetime import date, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import available_timezones

from sqlalchemy import select
from sqlalchemy.orm import Session

from andon.errors import InvalidSubmission
from andon.i18n import LOCALES, N_
from andon.identity.models import User
from andon.reports.dashboards import dashboard
from andon.reports.models import DigestSubscription

FREQUENCIES = {"weekly": N_("Weekly"), "monthly": N_("Monthly")}
WEEKDAYS = {1: N_("Monday"), 2: N_("Tuesday"), 3: N_("Wednesday"), 4: N_("Thursday"),
            5: N_("Friday"), 6: N_("Saturday"), 7: N_("Sunday")}


@lru_cache(maxsize=1)
def zones() -> list[str]:
    """Return the time zones a subscriber may choose, by name."""
    return sorted(zone for zone in available_timezones() if "/" in zone or zone == "UTC")


def subscribe(session: Session, user: User, key: str, form: dict[str, Any]) -> DigestSubscription:
    """Subscribe a reader to a dashboard's digest; raise naming each field that is not valid.

    ``form`` holds ``frequency``, ``day``, ``locale`` and ``timezone`` as typed.
    """
    dashboard(session, key, user)
    errors: dict[str, Any] = {}
    frequency = form.get("frequency", "")
    if frequency not in FREQUENCIES:
        errors["frequency"] = N_("Choose weekly or monthly.")
    day = _day(str(form.get("day", "")), frequency)
    if day is None:
        errors["day"] = (N_("Choose a day of the month from 1 to 31.") if frequency == "monthly"
                         else N_("Choose a day of the week."))
    if form.get("locale") not in LOCALES:
        errors["locale"] = N_("Choose a language.")
    if form.get("timezone") not in zones():
        errors["timezone"] = N_("Choose a time zone from the list.")
    if not user.email:
        errors["frequency"] = N_("Add an email address to your account first.")
    if errors:
        raise InvalidSubmission(errors, dict(form))
    found = DigestSubscription(user_id=user.id, dashboard_key=key, frequency=frequency,
                               day=day, locale=form["locale"], timezone=form["timezone"],
                               token=secrets.token_urlsafe(32))
    session.add(found)
    session.flush()
    return found


def _day(text: str, frequency: str) -> int | None:
    """Return the day typed if it suits the frequency."""
    try:
        day = int(text)
    except ValueError:
        return None
    top = 31 if frequency == "monthly" else 7
    return day if 1 <= day <= top else None


def subscriptions(session: Session, user: User, key: str | None = None
                  ) -> list[DigestSubscription]:
    """Return a reader's subscriptions, to one dashboard or to all."""
    query = select(DigestSubscription).where(DigestSubscription.user_id == user.id)
    if key is not None:
        query = query.where(DigestSubscription.dashboard_key == key)
    return list(session.scalars(query.order_by(DigestSubscription.id)))


def by_token(session: Session, token: str) -> DigestSubscription | None:
    """Return the subscription an unsubscribe link names, if it still exists."""
    if not token or len(token) > 64:
        return None
    return session.scalar(select(DigestSubscription).where(DigestSubscription.token == token))


def unsubscribe(session: Session, found: DigestSubscription) -> None:
    """End a subscription: no more digests of it are sent."""
    session.delete(found)
    session.flush()


def is_due(found: DigestSubscription, day: date) -> bool:
    """Tell whether a subscription's digest goes on a (local) day."""
    if found.frequency == "weekly":
        return day.isoweekday() == found.day
    return day.day == min(found.day, calendar.monthrange(day.year, day.month)[1])


def period(frequency: str, day: date) -> tuple[date, date]:
    """Return the first and last day a digest sent on a day covers."""
    if frequency == "weekly":
        return day - timedelta(days=7), day - timedelta(days=1)
    year, month = (day.year, day.month - 1) if day.month > 1 else (day.year - 1, 12)
    start = date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
    return start, day - timedelta(days=1)
