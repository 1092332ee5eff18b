"""Administration: people, groups, org units and the loaded definitions."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template
from sqlalchemy import select

from andon import catalog
from andon.identity.models import Group, OrgUnit, User
from andon.web import db, designer, form_builder, report_builder
from andon.web import taxonomies as taxonomy_pages
from andon.web.auth import role_required

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.register_blueprint(taxonomy_pages.bp)
bp.register_blueprint(form_builder.bp)
bp.register_blueprint(designer.bp)
bp.register_blueprint(report_builder.bp)


@bp.get("/")
@role_required("admin")
def index() -> Any:
    """Show users, groups, org units and definition versions."""
    session = db.session()
    return render_template(
        "admin/index.html",
        users=list(session.scalars(User.listed())),
        groups=list(session.scalars(select(Group).order_by(Group.key))),
        units=list(session.scalars(select(OrgUnit).order_by(OrgUnit.key))),
        versions=catalog.all_versions(session))
