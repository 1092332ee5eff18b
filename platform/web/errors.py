"""One place that maps domain errors and HTTP errors to pages."""

from __future__ import annotations

from typing import Any

from flask import Flask, render_template
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from andon.errors import AndonError, Conflict, Forbidden, InvalidDefinition, NotFound
from andon.web.i18n import translate
from andon.web.pages import is_fragment_request

STATUS = {NotFound: 404, Forbidden: 403, Conflict: 409, InvalidDefinition: 422}


def init_app(app: Flask) -> None:
    """Register the error handlers."""
    app.register_error_handler(AndonError, _domain_error)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(OperationalError, _busy)


def render_error(status: int, title: str, detail: str) -> tuple[str, int]:
    """Render the error page, or only its message for an htmx request."""
    template = "errors/_message.html" if is_fragment_request() else "errors/page.html"
    return render_template(template, status=status, title=title, detail=detail), status


def _domain_error(error: AndonError) -> Any:
    """Show a domain error with the status that fits it."""
    status = next((code for kind, code in STATUS.items() if isinstance(error, kind)), 400)
    return render_error(status, _title(status), translate(error.message))


def _csrf_error(_error: CSRFError) -> Any:
    """Explain a missing or stale CSRF token; nothing was changed."""
    return render_error(400, _("This form has expired"),
                        _("The page was open too long or came from elsewhere, so nothing "
                          "was changed. Reload the page and try again."))


def _busy(_error: OperationalError) -> Any:
    """Say the database was busy (a lock or a lost connection); nothing was changed."""
    return render_error(503, _("Busy"), _("Andon could not finish this just now and changed "
                                          "nothing. Please try again in a moment."))


def _http_error(error: HTTPException) -> Any:
    """Show an HTTP error page in the user's language."""
    status = error.code or 500
    detail = {
        403: _("You do not have permission to see this page or to do this. Nothing was "
               "changed. Ask an administrator if you need access."),
        404: _("There is nothing at this address."),
        413: _("What you sent is too large."),
    }.get(status, _("The request could not be handled; nothing was changed."))
    return render_error(status, _title(status), detail)


def _title(status: int) -> str:
    """Return a short title for a status code."""
    return {
        400: _("Request not accepted"),
        403: _("Not allowed"),
        404: _("Not found"),
        409: _("Already done"),
        413: _("Too large"),
        422: _("Definition not accepted"),
    }.get(status, _("Something went wrong"))
