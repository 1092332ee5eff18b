"""Dashboard digests by email: planned as work items, written in the subscriber's language.

Each digest is a work item keyed by subscription and local day, due at 08:00 in
the subscriber's time zone, so however often the worker plans, it is queued once;
the subscription remembers the day it last went, so a retried item is not sent
twice either. The numbers are computed when it is sent, with the subscriber's
row-level access at that moment.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from jinja2 import Environment
from sqlalchemy import select
from sqlalchemy.orm import Session

from andon import jobs
from andon.errors import Forbidden, NotFound
from andon.i18n import N_, localize, normalize_locale, translator
from andon.notifications.mailer import Email, SmtpSettings, send
from andon.reports import dashboards, subscriptions
from andon.reports.dashboard import DashboardSpec
from andon.reports.headlines import Headline, headline
from andon.reports.models import DigestSubscription

KIND = "dashboard_digest"
HOUR = time(8)
HTML = Environment(autoescape=True).from_string("""\
<!doctype html>
<html><body style="font-family: sans-serif; color: #1f2933">
<h1 style="font-size: 1.3em">{{ heading }}</h1>
<p>{{ covered }}</p>
{% for tile, link in tiles %}
<h2 style="font-size: 1.1em; margin-top: 1.5em"><a href="{{ link }}">{{ tile.title }}</a></h2>
{% if tile.refusal %}<p><em>{{ tile.refusal }}</em></p>
{% elif tile.kpi %}<p style="font-size: 1.4em">{{ tile.kpi.label }}:
  <strong>{{ tile.kpi.value }}</strong>
  {% if tile.kpi.target %}<span style="color: {{ '#1a7f37' if tile.kpi.met else '#b42318' }}">
  {{ words.target }} {{ tile.kpi.target }} — {{ words.met if tile.kpi.met else words.missed }}
  </span>{% endif %}</p>
{% elif tile.rows %}<table cellpadding="4" style="border-collapse: collapse">
  <tr><th></th>{% for c in tile.columns %}<th align="right">{{ c }}</th>{% endfor %}</tr>
  {% for label, cells in tile.rows %}<tr><td>{{ label }}</td>
  {% for cell in cells %}<td align="right">{{ cell }}</td>{% endfor %}</tr>{% endfor %}
</table>{% if tile.total > tile.rows|length %}<p><small>{{ words.more }}</small></p>{% endif %}
{% else %}<p>{{ words.empty }}</p>{% endif %}
{% endfor %}
<p style="margin-top: 2em"><a href="{{ open_link }}">{{ words.open }}</a></p>
<p><small><a href="{{ unsubscribe }}">{{ words.unsubscribe }}</a></small></p>
</body></html>
""")


def plan(session: Session, now: datetime) -> None:
    """Queue today's digest of every subscription due today in its own time zone."""
    due: dict[str, tuple[DigestSubscription, date]] = {}
    for found in session.scalars(select(DigestSubscription)):
        today = now.astimezone(ZoneInfo(found.timezone)).date()
        if subscriptions.is_due(found, today):
            due[f"{KIND}:{found.id}:{today.isoformat()}"] = (found, today)
    queued = set(session.scalars(select(jobs.WorkItem.key)
                                 .where(jobs.WorkItem.key.in_(list(due)))))
    for key, (found, today) in due.items():
        if key not in queued:
            jobs.schedule(session, KIND, key,
                          datetime.combine(today, HOUR, ZoneInfo(found.timezone)),
                          {"subscription": found.id, "day": today.isoformat()})


def handler(settings: SmtpSettings | None,
            base_url: str) -> Callable[[Session, jobs.WorkItem, datetime], None]:
    """Return the handler that emails one digest (no settings: email is off)."""
    def deliver(session: Session, item: jobs.WorkItem, _now: datetime) -> None:
        """Send the digest once; without email, a subscriber or the dashboard, skip it."""
        found = session.get(DigestSubscription, item.payload["subscription"])
        day = date.fromisoformat(item.payload["day"])
        if found is None or found.last_sent_on == day or settings is None:
            return
        email = compose(session, found, day, base_url, item.key)
        if email is not None:
            send(settings, email)
            found.last_sent_on = day
    return deliver


def compose(session: Session, found: DigestSubscription, day: date, base_url: str,
            key: str) -> Email | None:
    """Write one digest for its subscriber, or None when it cannot go to them any more."""
    user = found.user
    if not user.active or not user.email:
        return None
    try:
        spec = dashboards.dashboard(session, found.dashboard_key, user)
    except (NotFound, Forbidden):
        return None
    start, end = subscriptions.period(found.frequency, day)
    values = _values(spec, start, end)
    translate, locale = translator(found.locale), normalize_locale(found.locale)
    tiles = dashboards.tiles(session, spec, user, values)
    heads = [headline(session, tile, localize(tile.title, locale), user, locale, translate)
             for tile in tiles]
    base = base_url.rstrip("/")
    links = [_link(f"{base}/reports/{tile.body['report']}", tile.values) for tile in tiles]
    words = _words(translate, found, start, end)
    title = localize(spec.title, locale)
    subject = translate(N_("%(dashboard)s: digest for %(start)s to %(end)s")) % {
        "dashboard": title, "start": start.isoformat(), "end": end.isoformat()}
    unsubscribe = f"{base}/dashboards/unsubscribe/{found.token}"
    open_link = _link(f"{base}/dashboards/{spec.key}", values)
    return Email(to=[user.email], subject=subject, message_id=key.replace(":", "-"),
                 text=_text(title, words, heads, links, open_link, unsubscribe),
                 html=HTML.render(heading=title, covered=words["covered"],
                                  tiles=list(zip(heads, links, strict=True)), words=words,
                                  open_link=open_link, unsubscribe=unsubscribe),
                 headers={"List-Unsubscribe": f"<{unsubscribe}>"})


def _link(page: str, values: dict[str, str]) -> str:
    """Return a page's address with the values that are not empty."""
    query = urlencode({k: v for k, v in values.items() if v})
    return f"{page}?{query}" if query else page


def _values(spec: DashboardSpec, start: date, end: date) -> dict[str, str]:
    """Return the shared values of a digest: its period, every other parameter left open."""
    values: dict[str, str] = {}
    for item in spec.parameters:
        if item["type"] == "date_range":
            values[f"{item['key']}_from"], values[f"{item['key']}_to"] = (start.isoformat(),
                                                                          end.isoformat())
        else:
            values[item["key"]] = ""
    return values


def _words(translate: Callable[[str], str], found: DigestSubscription, start: date,
           end: date) -> dict[str, str]:
    """Return the digest's fixed words in the subscriber's language."""
    return {"covered": translate(N_("Period covered: %(start)s to %(end)s (%(frequency)s).")) % {
                "start": start.isoformat(), "end": end.isoformat(),
                "frequency": translate(subscriptions.FREQUENCIES[found.frequency])},
            "target": translate(N_("target")), "met": translate(N_("met")),
            "missed": translate(N_("not met")), "empty": translate(N_("No rows.")),
            "more": translate(N_("More rows in the full report.")),
            "open": translate(N_("Open the dashboard")),
            "unsubscribe": translate(N_("Unsubscribe from this digest"))}


def _text(title: str, words: dict[str, str], heads: list[Headline], links: list[str],
          open_link: str, unsubscribe: str) -> str:
    """Return the plain-text body of a digest."""
    lines = [title, "", words["covered"], ""]
    for head, link in zip(heads, links, strict=True):
        lines.append(f"== {head.title} ==")
        if head.refusal:
            lines.append(head.refusal)
        elif head.kpi:
            target = (f" ({words['target']} {head.kpi.target}: "
                      f"{words['met'] if head.kpi.met else words['missed']})"
                      if head.kpi.target else "")
            lines.append(f"{head.kpi.label}: {head.kpi.value}{target}")
        elif head.rows:
            lines.append(" | ".join(["", *head.columns]).strip(" |"))
            lines += [f"{label}: " + " | ".join(cells) for label, cells in head.rows]
        else:
            lines.append(words["empty"])
        lines += [link, ""]
    lines += [f"{words['open']}: {open_link}", f"{words['unsubscribe']}: {unsubscribe}", ""]
    return "\n".join(lines)

