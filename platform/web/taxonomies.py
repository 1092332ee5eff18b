"""Administration of taxonomies: the list, one tree, and edits that each publish a version."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from andon import catalog
from andon.errors import InvalidSubmission
from andon.forms import taxonomies, taxonomy_edits
from andon.i18n import Message
from andon.web import db
from andon.web.auth import role_required
from andon.web.pages import is_fragment_request, me

bp = Blueprint("taxonomies", __name__, url_prefix="/taxonomies")


@bp.get("/")
@role_required("admin")
def index() -> Any:
    """List the taxonomies with their current version."""
    session = db.session()
    rows = [(version, taxonomies.at_version(version)) for version in taxonomies.listed(session)]
    return render_template("taxonomies/index.html", rows=rows)


@bp.get("/<key>")
@role_required("admin")
def show(key: str) -> Any:
    """Show one taxonomy's tree, the forms to change it and its versions."""
    return _page(key)


@bp.get("/<key>/export")
@role_required("admin")
def export(key: str) -> Any:
    """Download the current version as a file that `andon load` takes back unchanged."""
    source = taxonomies.export(db.session(), key)
    return Response(source, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="{key}.json"'})


@bp.post("/<key>/codes")
@role_required("admin")
def add(key: str) -> Any:
    """Add a code at the top or under a parent."""
    form = request.form
    parent = form.get("parent", "")
    return _change(key, f"add:{parent}", lambda: taxonomy_edits.add_code(
        db.session(), key, parent or None, form.get("code", ""), _label(), me()),
        _("Code %(code)s added.", code=form.get("code", "").strip()))


@bp.post("/<key>/codes/<code>/label")
@role_required("admin")
def rename(key: str, code: str) -> Any:
    """Give a code new labels."""
    return _change(key, f"rename:{code}", lambda: taxonomy_edits.rename_code(
        db.session(), key, code, _label(), me()), _("Code %(code)s renamed.", code=code))


@bp.post("/<key>/codes/<code>/retire")
@role_required("admin")
def retire(key: str, code: str) -> Any:
    """Retire a code: old records keep it, new ones cannot choose it."""
    return _change(key, f"retire:{code}", lambda: taxonomy_edits.set_retired(
        db.session(), key, code, True, me()),
        _("Code %(code)s retired. Old records keep it; it can no longer be chosen.", code=code))


@bp.post("/<key>/codes/<code>/restore")
@role_required("admin")
def restore(key: str, code: str) -> Any:
    """Make a retired code choosable again."""
    return _change(key, f"retire:{code}", lambda: taxonomy_edits.set_retired(
        db.session(), key, code, False, me()),
        _("Code %(code)s can be chosen again.", code=code))


def _label() -> dict[str, str]:
    """Return the submitted labels by locale."""
    return {locale: request.form.get(f"label_{locale}", "") for locale in taxonomies.LOCALES}


def _change(key: str, active: str, action: Callable[[], catalog.DefinitionVersion],
            done: str) -> Any:
    """Run an edit and commit; show what went wrong by the field, keeping what was typed."""
    session = db.session()
    try:
        version = action()
    except InvalidSubmission as invalid:
        session.rollback()
        return _page(key, active, invalid.errors, invalid.values, status=422)
    session.commit()
    message = " ".join((done, _("Now version %(number)s.", number=version.number)))
    if is_fragment_request():
        return _page(key, notice=message)
    flash(message)
    return redirect(url_for("admin.taxonomies.show", key=key))


def _page(key: str, active: str = "", errors: dict[str, Message] | None = None,
          values: Any = None, notice: str = "", status: int = 200) -> Any:
    """Render the taxonomy page, or only its tree for an htmx request."""
    session = db.session()
    tree = taxonomies.current(session, key)
    template = "taxonomies/_tree.html" if is_fragment_request() else "taxonomies/show.html"
    return render_template(
        template, key=key, tree=tree, version=catalog.current(session, taxonomies.KIND, key),
        changes=taxonomy_edits.history(session, key), active=active, errors=errors or {},
        values=values or {}, notice=notice, max_depth=taxonomies.MAX_DEPTH), status
