"""A person's own settings: language and how they are notified."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from andon.i18n import LOCALES
from andon.web import db
from andon.web.pages import me

bp = Blueprint("settings", __name__, url_prefix="/settings")


@bp.route("/", methods=["GET", "POST"])
def index() -> Any:
    """Show and save the signed-in person's settings."""
    user = me()
    if request.method == "POST":
        chosen = request.form.get("locale")
        if chosen in LOCALES:
            user.locale = session["locale"] = chosen
        user.email_notifications = request.form.get("email_notifications") == "on"
        db.session().commit()
        flash(_("Your settings are saved."))
        return redirect(url_for("settings.index"))
    return render_template("settings/index.html", user=user)
