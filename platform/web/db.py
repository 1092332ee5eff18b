"""One database session per request, committed by the views that change things."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from andon.database import make_engine, make_session_factory


def init_app(app: Flask) -> None:
    """Create the engine for the app and close each request's session."""
    engine = make_engine(app.config["ANDON"].database_url)
    app.extensions["andon.engine"] = engine
    app.extensions["andon.sessions"] = make_session_factory(engine)
    app.teardown_appcontext(_close)


def session() -> Session:
    """Return this request's session, opening it on first use."""
    if "db" not in g:
        g.db = current_app.extensions["andon.sessions"]()
    return g.db  # type: ignore[no-any-return]


def _close(_exc: BaseException | None) -> None:
    """Roll back what was not committed and close the session."""
    db = g.pop("db", None)
    if db is not None:
        db.close()
