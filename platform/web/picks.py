"""The searches behind search-box pickers: records of a form, and users, groups, org units.

A picker's text input asks here through htmx as the user types: ``hx-get``
sends the input's own value under its name, and ``hx-vals`` says that name
(``name``), the input's id (``input``) and the id of the text beside it that
shows the choice (``shown``). The answer is a list of buttons; one inline
handler puts the chosen key or record number into the input and its title
beside it. Without JavaScript nobody comes here: the user types a record
number or a user name, which the server checks on save.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext

from andon.forms import record_refs, widgets_people
from andon.web import db
from andon.web.i18n import locale_code
from andon.web.pages import me

bp = Blueprint("picks", __name__, url_prefix="/picks")
DOM_ID = re.compile(r"^[A-Za-z0-9_\-]{1,300}$")
MAX_TEXT = 200


@bp.get("/records/<key>")
def records(key: str) -> Any:
    """Return the buttons of the form's records that match the typed text and one may read."""
    text = _typed()
    found = record_refs.search(db.session(), key, text, me(), locale_code(),
                               gettext) if text else []
    return _results([(str(item.id), item.title) for item in found], text)


@bp.get("/people/<kind>")
def people(kind: str) -> Any:
    """Return the buttons of active users (or groups, org units) whose name holds the text."""
    if kind not in widgets_people.KINDS:
        abort(404)
    text = _typed()
    return _results(widgets_people.search(db.session(), kind, text) if text else [], text)


def _typed() -> str:
    """Return the text typed into the picker's input, named by the ``name`` argument."""
    return request.args.get(request.args.get("name", "q"), "").strip()[:MAX_TEXT]


def _results(found: list[tuple[str, str]], text: str) -> Any:
    """Render the list of choices for the input and the shown text the request names."""
    targets = {arg: request.args.get(arg, "") for arg in ("input", "shown")}
    if not all(DOM_ID.match(value) for value in targets.values()):
        abort(400)
    return render_template("picks/_results.html", found=found, text=text, **targets)
