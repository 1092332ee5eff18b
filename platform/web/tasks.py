"""One task: its instance's data, its form, claiming and completing it, copies and files."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

from andon import files
from andon.database import utcnow
from andon.errors import Conflict, InvalidSubmission
from andon.flows import actions, causes, permissions, queries, runtime
from andon.flows.models import FlowInstance, Task
from andon.forms.schema import FormSpec
from andon.forms.store import form_spec_at
from andon.forms.taxonomy_fields import Hint, picker
from andon.i18n import N_, Message
from andon.identity.models import User
from andon.web import db
from andon.web.i18n import locale_code, translate
from andon.web.inbox import deadline_of
from andon.web.instances import submitted_steps
from andon.web.pages import act, form_fields, is_fragment_request, me, submit
from andon.web.uploads import allow_on, receive, refuse

bp = Blueprint("tasks", __name__, url_prefix="/tasks")
allow_on(bp, "tasks.show", "tasks.draft")
MULTIPART_MARGIN = 1024 * 1024  # room for the other fields posted with a file


@bp.route("/<int:task_id>", methods=["GET", "POST"])
def show(task_id: int) -> Any:
    """Show a task, or complete it with the submitted form."""
    session = db.session()
    user = me()
    task = session.get(Task, task_id)
    if task is None or not (runtime.may_act(task, user)
                            or queries.can_view(session, task.instance, user)):
        abort(404 if task is None else 403)
    spec, form, refused = _files_chosen(task, user)

    def complete() -> Task:
        """Complete the task, unless a file was refused or a late task has no cause."""
        if spec is not None:
            refuse(spec, form, refused)
        cause, note = _cause(session, task)
        return runtime.complete_task(session, task_id, user, form, cause=cause, cause_note=note)
    done = submit(complete)
    if done.result is not None:
        flash(_("Done. The task has left your inbox."))
        return redirect(url_for("inbox.index"))
    task = session.get(Task, task_id)
    return _render(task, user, done.values or task.draft or {}, done.errors)


def _cause(session: Any, task: Task) -> tuple[str | None, str | None]:
    """Return the cause and note of a late task, refused (keeping what was typed) if missing."""
    if not causes.is_late(task):
        return None, None
    try:
        return causes.checked(session, request.form.get(causes.FIELD),
                              request.form.get(causes.NOTE))
    except InvalidSubmission as invalid:
        raise InvalidSubmission(invalid.errors, request.form) from None


def _cause_field(task: Task, values: Any, actionable: bool) -> Any:
    """Return the cause picker of an open overdue task (None for any other), keeping values."""
    if not actionable or not causes.is_late(task):
        return None
    values = values or {}
    code = str(values.get(causes.FIELD) or task.cause or "")
    return SimpleNamespace(
        name=causes.FIELD, label=_("Cause"), required=True, read_only=False,
        placeholder="", value=code, id="cause", form_id="task-form",
        note=str(values.get(causes.NOTE) or task.cause_note or ""),
        extra=picker(db.session(), code, Hint(causes.taxonomy_key()), locale_code()))


def _files_chosen(task: Task, user: User) -> tuple[FormSpec | None, Any, dict[str, Message]]:
    """Keep the files chosen in the task form's file fields (the step's view of the form)."""
    if task.form_version_id is None or task.state != "open" or not runtime.may_act(task, user):
        return None, request.form, {}
    rights = permissions.of_step(task.instance.version.content, task.step_id)
    spec = permissions.view(form_spec_at(db.session(), task.form_version_id), rights)
    return (spec, *receive(spec, request.form, user))


def _render(task: Task, user: User, values: Any, errors: dict[str, Message],
            upload_error: str | None = None) -> Any:
    """Render the task page with the form (and its errors) when the user may act."""
    session = db.session()
    actionable = task.state == "open" and runtime.may_act(task, user)
    fields, rights = [], permissions.of_step(task.instance.version.content, task.step_id)
    if actionable and task.form_version_id:
        spec = form_spec_at(session, task.form_version_id)
        fields = form_fields(permissions.view(spec, rights),
                             permissions.prefill(spec, rights, values, task.instance.data),
                             errors, task.form_version_id)
    people = list(session.scalars(User.listed().where(User.active, User.id != user.id)))
    return render_template("tasks/show.html", task=task, fields=fields, actionable=actionable,
                           steps=submitted_steps(session, task.instance, rights.hidden),
                           errors=errors, user=user, people=people,
                           earlier=actions.earlier_steps(task) if actionable else [],
                           deadline=deadline_of(session, task, utcnow()),
                           upload_error=upload_error, uploads=uploads(),
                           cause_field=_cause_field(task, values, actionable)), (
        422 if errors or upload_error else 200)


@bp.post("/<int:task_id>/claim")
def claim(task_id: int) -> Any:
    """Claim a task offered to the user's group or role."""
    session = db.session()
    runtime.claim_task(session, task_id, me())
    session.commit()
    flash(_("The task is now yours."))
    return redirect(url_for("tasks.show", task_id=task_id))


@bp.post("/<int:task_id>/draft")
def draft(task_id: int) -> Any:
    """Keep what was typed so far, with the files chosen in the form's file fields."""
    task = db.session().get(Task, task_id)
    if task is None:
        abort(404)
    form, refused = _files_chosen(task, me())[1:]
    for message in refused.values():
        flash(translate(message), "error")
    return act(lambda: actions.save_draft(db.session(), task_id, me(), form),
               _("Draft saved. Nobody else sees it; complete the task when you are ready."),
               url_for("tasks.show", task_id=task_id))


@bp.post("/<int:task_id>/release")
def release(task_id: int) -> Any:
    """Give a claimed task back to its group."""
    return act(lambda: actions.release(db.session(), task_id, me()),
               _("The task is back with your team."), url_for("inbox.index"))


@bp.post("/<int:task_id>/transfer")
def transfer(task_id: int) -> Any:
    """Hand the task to someone else, with a reason."""
    def run() -> None:
        to = db.session().scalar(select(User).where(User.username == request.form.get("to", "")))
        if to is None:
            raise Conflict(N_("Choose another active person to transfer the task to."))
        actions.transfer(db.session(), task_id, me(), to, request.form.get("reason", ""))
    return act(run, _("The task was transferred."), url_for("inbox.index"))


@bp.post("/<int:task_id>/send-back")
def send_back(task_id: int) -> Any:
    """Send the flow back to an earlier step, with a reason."""
    return act(lambda: actions.send_back(db.session(), task_id, me(),
                                         request.form.get("step", ""),
                                         request.form.get("reason", "")),
               _("Sent back. The earlier step is open again."), url_for("inbox.index"))


@bp.post("/<int:task_id>/cc")
def cc(task_id: int) -> Any:
    """Copy someone on the task, with an optional note."""
    to = db.session().scalar(select(User).where(User.username == request.form.get("to", "")))

    def run() -> None:
        if to is None:
            raise Conflict(N_("Choose another active person to copy."))
        actions.cc(db.session(), task_id, me(), to, request.form.get("note", ""))
    return act(run, _("%(name)s is copied and can follow this flow.",
                      name=to.display_name if to else ""),
               url_for("tasks.show", task_id=task_id))


@bp.post("/<int:task_id>/attachments")
def upload(task_id: int) -> Any:
    """Attach a file; what else was typed in the task's form is kept as a draft."""
    session, user, settings = db.session(), me(), uploads()
    chosen = request.files.get("attachment")
    values = {k: v for k, v in request.form.items() if k != "csrf_token"}
    if chosen is None or not chosen.filename:
        return _refused(task_id, values, _("Choose a file to attach."))
    try:
        attachment = actions.attach(session, settings, task_id, user, chosen.stream,
                                    chosen.filename)
        if values:
            actions.save_draft(session, task_id, user, values)
    except files.FileRefused as refused:
        session.rollback()
        return _refused(task_id, values, translate(refused.message))
    session.commit()
    if is_fragment_request():
        return _attachments(session.get(Task, task_id), None)
    flash(_("“%(file)s” is attached.", file=attachment.filename))
    return redirect(url_for("tasks.show", task_id=task_id))


@bp.record_once
def _allow_uploads(state: Any) -> None:
    """Raise the request size limit for uploads before anything (the CSRF check) reads the form."""
    state.app.before_request_funcs.setdefault(None, []).insert(0, _upload_limit)


def _upload_limit() -> None:
    """Let an upload be as large as the upload limit, not the smaller one of other requests."""
    if request.endpoint == "tasks.upload":
        request.max_content_length = uploads().max_bytes + MULTIPART_MARGIN


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_error: RequestEntityTooLarge) -> Any:
    """Say an upload far over the limit was refused; its name was never read."""
    task_id = (request.view_args or {}).get("task_id")
    message = _("The file was not attached: it is larger than the limit of %(limit)s.",
                limit=files.readable_size(uploads().max_bytes))
    if request.endpoint != "tasks.upload" or task_id is None:
        return message, 413
    page = _refused(task_id, {}, message)
    return (page, 413) if is_fragment_request() else (page[0], 413)


def _refused(task_id: int, values: dict[str, Any], error: str) -> Any:
    """Show why a file was not attached, keeping what was typed on the page."""
    task = db.session().get(Task, task_id)
    if task is None:
        abort(404)
    if is_fragment_request():
        return _attachments(task, error)
    return _render(task, me(), values or task.draft or {}, {}, upload_error=error)


def _attachments(task: Task | None, error: str | None) -> Any:
    """Render the attachments card alone, for htmx."""
    if task is None:
        abort(404)
    return render_template("tasks/_attachments.html", task=task, instance=task.instance,
                           actionable=True, upload_error=error, uploads=uploads())


@bp.get("/files/<int:attachment_id>")
def download(attachment_id: int) -> Any:
    """Send an attached file to someone who may see its instance, as a download."""
    session = db.session()
    attachment = session.get(files.Attachment, attachment_id)
    if attachment is None:
        abort(404)
    instance = session.get(FlowInstance, attachment.instance_id) if attachment.instance_id \
        else None
    if instance is None or not queries.can_view(session, instance, me()):
        abort(403)
    path = files.path_of(uploads(), attachment.sha256)
    if not path.exists():
        abort(404)
    response = send_file(path, mimetype=attachment.content_type, as_attachment=True,
                         download_name=attachment.filename, max_age=0, etag=attachment.sha256)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def uploads() -> files.UploadSettings:
    """Return the upload settings of this installation."""
    config = current_app.config["ANDON"]
    return config.uploads or files.UploadSettings.from_env({}, config.instance_path)


@bp.app_template_global()
def attachments_of(instance_id: int) -> list[files.Attachment]:
    """Return the files attached to an instance, for its page and its tasks' pages."""
    return list(db.session().scalars(files.of_instance(instance_id)))


@bp.app_template_global()
def cause_label(code: str) -> str:
    """Return a stored cause as its path in the cause taxonomy, in the reader's language."""
    return causes.label(db.session(), code, locale_code())


@bp.app_template_filter()
def filesize(size: int) -> str:
    """Show a byte count as people read it."""
    return files.readable_size(size)
