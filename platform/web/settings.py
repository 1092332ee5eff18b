"""A person's own settings: language, which notifications reach them where, their chat webhook."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _

from andon.i18n import LOCALES, Message
from andon.identity.models import CHANNELS, CHAT_KINDS, TOPICS, User
from andon.notifications import chat, preferences
from andon.web import db
from andon.web.i18n import translate
from andon.web.pages import me

bp = Blueprint("settings", __name__, url_prefix="/settings")

CHAT_NAMES = {"wecom": "企业微信 WeCom", "dingtalk": "钉钉 DingTalk",
              "feishu": "飞书 Feishu / Lark", "slack": "Slack", "generic": "JSON"}


@bp.route("/", methods=["GET", "POST"])
def index() -> Any:
    """Show and save the signed-in person's settings."""
    user = me()
    if request.method == "GET":
        return _render(user)
    chosen = request.form.get("locale")
    if chosen in LOCALES:
        user.locale = session["locale"] = chosen
    preferences.choose(user, {f"{t}.{c}": request.form.get(f"{t}.{c}") == "on"
                              for t in TOPICS for c in CHANNELS})
    error = _webhook(user)
    if error is not None:
        db.session().rollback()
        return _render(me(), error, dict(request.form))
    db.session().commit()
    flash(_("Your settings are saved."))
    return redirect(url_for("settings.index"))


def _webhook(user: User) -> Message | None:
    """Apply the webhook fields: remove, replace, or leave the saved one; return a refusal."""
    if request.form.get("chat_remove") == "on":
        preferences.remove_webhook(user)
        return None
    url, kind = request.form.get("chat_webhook", "").strip(), request.form.get("chat_kind", "")
    try:
        if url:
            preferences.set_webhook(user, kind, url, allow_private=_private())
        elif user.chat_webhook and kind in CHAT_KINDS:
            user.chat_kind = kind
    except chat.ChatError as refused:
        return refused.message
    return None


@bp.post("/chat-test")
def chat_test() -> Any:
    """Post a test message to the saved webhook now and say how it went."""
    user = me()
    try:
        preferences.send_test(user, current_app.config["ANDON"].base_url,
                              allow_private=_private())
    except chat.ChatError as failed:
        flash(translate(failed.message), "error")
    else:
        flash(_("The test message was sent. Check your chat tool."))
    return redirect(url_for("settings.index"))


def _private() -> bool:
    """Tell whether webhooks may point at private addresses (ANDON_OUTBOUND_ALLOW_PRIVATE)."""
    return bool(current_app.config["ANDON"].outbound_private)


def _render(user: User, error: Message | None = None, typed: dict[str, Any] | None = None
            ) -> Any:
    """Render the settings page, with a webhook refusal and what was typed."""
    ticked = ({t: {c: (typed.get(f"{t}.{c}") == "on") for c in CHANNELS} for t in TOPICS}
              if typed is not None else preferences.choices(user))
    return render_template(
        "settings/index.html", user=user, ticked=ticked, topics=preferences.TOPIC_NAMES,
        chat_names=CHAT_NAMES, masked=chat.mask(user.chat_webhook or "")
        if user.chat_webhook else "", error=error, typed=typed or {}), (422 if error else 200)
