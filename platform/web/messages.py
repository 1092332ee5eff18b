"""Messages from outside: deliver a BPMN message to the flows waiting for it (JSON).

``POST /api/messages/<name>`` with ``{"correlation": {...}, "payload": {...}}``,
for a signed-in administrator (session cookie and the CSRF token in the
``X-CSRFToken`` header, as for every change). Machine callers need API tokens,
which do not exist yet.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from flask_babel import gettext

from andon.errors import AndonError, Conflict, NotFound
from andon.flows import messages
from andon.web import db
from andon.web.auth import role_required
from andon.web.i18n import translate
from andon.web.pages import me

bp = Blueprint("messages", __name__, url_prefix="/api/messages")


@bp.post("/<name>")
@role_required("admin")
def deliver(name: str) -> Any:
    """Deliver a message; 404 naming it when no running flow waits for it."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return _refused(400, name, gettext("Send a JSON object with 'correlation' and "
                                           "'payload'."))
    session = db.session()
    try:
        delivered = messages.deliver(session, name, body.get("payload") or {},
                                     body.get("correlation") or {}, actor_id=me().id)
    except AndonError as refused:
        session.rollback()
        status = 404 if isinstance(refused, NotFound) else 409 if isinstance(
            refused, Conflict) else 400
        return _refused(status, name, translate(refused.message))
    session.commit()
    return jsonify({"message": name, "delivered": delivered})


def _refused(status: int, name: str, error: str) -> Any:
    """Answer a refused message in JSON: what it was and why."""
    return jsonify({"message": name, "error": error}), status
