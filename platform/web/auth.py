"""Signing in and out, the language switch, and access checks for views."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import LoginManager, current_user, login_user, logout_user
from flask_wtf.csrf import CSRFProtect

from andon.i18n import LOCALES
from andon.identity.accounts import authenticate
from andon.identity.models import User
from andon.web import db
from andon.web.pages import is_fragment_request

bp = Blueprint("auth", __name__, url_prefix="/auth")
login_manager = LoginManager()
csrf = CSRFProtect()


class SessionUser:
    """Wrap a User row for Flask-Login without keeping a database session open."""

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def __init__(self, user: User) -> None:
        self.id = user.id
        self.username = user.username
        self.display_name = user.display_name
        self.locale = user.locale
        self.roles = frozenset(user.roles)
        self.group_ids = frozenset(group.id for group in user.groups)

    def get_id(self) -> str:
        """Return the id Flask-Login keeps in the session."""
        return str(self.id)

    def has_role(self, *names: str) -> bool:
        """Tell whether the user holds any of the roles."""
        return bool(self.roles.intersection(names))


def init_app(app: Flask) -> None:
    """Install login, CSRF protection and the auth views."""
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None  # the login page says why itself
    login_manager.session_protection = "basic"
    csrf.init_app(app)
    app.register_blueprint(bp)
    app.before_request(_require_login)


@login_manager.user_loader
def load_user(user_id: str) -> SessionUser | None:
    """Load the signed-in user for this request."""
    user = db.session().get(User, int(user_id))
    return SessionUser(user) if user is not None and user.active else None


def _require_login() -> Any:
    """Send anonymous visitors to the login page, except for public endpoints."""
    public = {"auth.login", "auth.language", "static", "dashboards.unsubscribe"}
    if request.endpoint in public or current_user.is_authenticated:
        return None
    if is_fragment_request():
        return "", 401, {"HX-Redirect": url_for("auth.login")}
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def role_required(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Allow a view only to users holding one of the roles."""
    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorator


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """Show the login form and sign the user in."""
    error = None
    username = request.form.get("username", "")
    if request.method == "POST":
        user = authenticate(db.session(), username, request.form.get("password", ""))
        if user is not None:
            session.clear()
            session.permanent = True
            login_user(SessionUser(user))
            return redirect(_safe_next(request.args.get("next")))
        error = _("Wrong user name or password.")
    expired = request.method == "GET" and request.args.get("next") not in (None, "", "/")
    status = 401 if error else 200
    return render_template("auth/login.html", error=error, username=username,
                           expired=expired), status


@bp.post("/logout")
def logout() -> Any:
    """Sign the user out."""
    logout_user()
    session.clear()
    flash(_("You have signed out."))
    return redirect(url_for("auth.login"))


@bp.post("/language")
def language() -> Any:
    """Switch the UI language and go back where the user was."""
    chosen = request.form.get("locale")
    if chosen in LOCALES:
        session["locale"] = chosen
        if current_user.is_authenticated:
            user = db.session().get(User, current_user.id)
            if user is not None:
                user.locale = chosen
                db.session().commit()
    return redirect(_safe_next(request.form.get("next")))


def _safe_next(target: str | None) -> str:
    """Return a local redirect target, never another site."""
    if (target and target.startswith("/") and not target.startswith("//")
            and "\\" not in target and target.isprintable() and " " not in target
            and not urlsplit(target).netloc):
        return target
    return url_for("home")
