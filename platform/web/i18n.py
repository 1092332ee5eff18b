"""The UI language: the user's choice, else the browser's, else the default."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app, request, session
from flask_babel import Babel, format_datetime, get_locale, gettext
from flask_login import current_user

from andon.i18n import LOCALES, N_, Message, localize

LANGUAGE_NAMES = {"zh_Hans_CN": "简体中文", "en": "English"}
ROLE_NAMES = {"admin": N_("Administrator"), "designer": N_("Designer"), "member": N_("Member"),
              "leader": N_("Leader")}


def init_app(app: Flask) -> None:
    """Set up Flask-Babel and the template helpers for translation."""
    compiled = Path(app.root_path).parent / "translations/zh_Hans_CN/LC_MESSAGES/messages.mo"
    if not compiled.exists():
        app.logger.warning("The message catalogues are not compiled, so the UI is English "
                           "only: run `make translations`.")
    Babel(app, locale_selector=select_locale,
          default_translation_directories="../translations")
    app.jinja_env.globals.update(translate=translate, html_lang=html_lang,
                                 languages=LANGUAGE_NAMES, locale_code=locale_code,
                                 localized=localize, role_name=role_name)
    app.jinja_env.filters["role_name"] = role_name
    app.jinja_env.filters["when"] = lambda value: format_datetime(value, "medium") if value else ""


def role_name(role: str) -> str:
    """Return a role's name in the reader's language."""
    return gettext(ROLE_NAMES.get(role, role))


def select_locale() -> str:
    """Pick the locale for this request."""
    chosen = session.get("locale")
    if chosen in LOCALES:
        return str(chosen)
    if current_user and getattr(current_user, "locale", None) in LOCALES:
        return str(current_user.locale)
    best = request.accept_languages.best_match(["zh", "zh-CN", "en"])
    if best:
        return "en" if best.startswith("en") else "zh_Hans_CN"
    return str(current_app.config["ANDON"].default_locale)


def locale_code() -> str:
    """Return the current locale as Andon's short code: 'zh-CN' or 'en'."""
    return "en" if str(get_locale()).startswith("en") else "zh-CN"


def html_lang() -> str:
    """Return the value for the html lang attribute."""
    return locale_code()


def translate(message: Message | str | None) -> str:
    """Translate a domain message (or a plain message id) for the reader."""
    if message is None:
        return ""
    if isinstance(message, str):
        return gettext(message)
    return message.render(gettext, locale_code())

