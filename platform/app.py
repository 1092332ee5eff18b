"""The Flask application factory."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask, Response

from andon import clock, temporal
from andon.config import Config
from andon.flows import causes


def create_app(config: Config | dict[str, Any] | None = None) -> Flask:
    """Create and configure an Andon web application."""
    if not isinstance(config, Config):
        config = Config.from_env(**(config or {}))
    if config.clock_offset:
        clock.move(config.clock_offset)
    temporal.use_installation_zone(config.timezone)
    causes.use_taxonomy(config.cause_taxonomy)
    app = Flask(__name__.rsplit(".", 1)[0] + ".web", instance_path=str(config.instance_path))
    app.config.update(
        SECRET_KEY=config.secret_key,
        ANDON=config,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.secure_cookies,
        REMEMBER_COOKIE_SECURE=config.secure_cookies,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        # Only a request that changes the session sends its cookie back. Otherwise a badge
        # refresh still in flight when someone signs out answers with the old cookie and
        # signs them in again (the session lives 12 hours from its last change).
        SESSION_REFRESH_EACH_REQUEST=False,
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
        WTF_CSRF_TIME_LIMIT=None,
        BABEL_DEFAULT_TIMEZONE=config.timezone,
        **{key.upper(): value for key, value in config.extra.items()},
    )
    from andon.web import (
        admin,
        auth,
        dashboards,
        db,
        errors,
        excel,
        forms,
        i18n,
        inbox,
        instances,
        messages,
        notifications,
        picks,
        records,
        reports,
        settings,
        start,
        tasks,
    )

    db.init_app(app)
    i18n.init_app(app)
    auth.init_app(app)
    errors.init_app(app)
    for module in (inbox, start, tasks, forms, instances, reports, dashboards, admin,
                   notifications, settings, records, excel, messages, picks):
        app.register_blueprint(module.bp)
    app.after_request(_security_headers)
    app.add_url_rule("/", endpoint="home", view_func=dashboards.home)
    return app


def _security_headers(response: Response) -> Response:
    """Forbid framing (clickjacking), MIME sniffing and leaking URLs to other sites."""
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Content-Security-Policy", "frame-ancestors 'none'")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response
