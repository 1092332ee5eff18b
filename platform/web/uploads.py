"""Files chosen in a form's file fields: stored as the form is posted, sent back to readers.

``receive`` keeps each chosen file (``andon.forms.file_fields``) and returns the
form with the files' ids in place of the inputs, so the rest of the page works
on ids: a refused file is an error on its field, and the files kept so far
stay chosen when the page comes back with errors (they are committed at once;
the record is not). ``send`` serves a file as a download, never inline.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, request, send_file
from flask_login import current_user
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from andon import files
from andon.errors import InvalidSubmission
from andon.flows.models import FlowInstance
from andon.flows.queries import can_view
from andon.forms import file_fields
from andon.forms.models import Record
from andon.forms.names import ROWS, child
from andon.forms.nodes import Fields
from andon.forms.records import may_read, rules_spec
from andon.forms.schema import FormSpec
from andon.forms.validation import validate_submission
from andon.i18n import Message
from andon.identity.models import User
from andon.web import db

MULTIPART_MARGIN = 1024 * 1024  # room for the other fields posted with the files
FILES_PER_POST = 10  # a post may carry this many files of the largest size
#: served as a plain download whatever their name says: a browser would run them as a page
ACTIVE_TYPES = frozenset({"text/html", "application/xhtml+xml", "image/svg+xml", "text/xml",
                          "application/xml", "application/javascript", "text/javascript"})


def settings() -> files.UploadSettings:
    """Return the upload settings of this installation."""
    config = current_app.config["ANDON"]
    return config.uploads or files.UploadSettings.from_env({}, config.instance_path)


def allow_on(blueprint: Blueprint, *endpoints: str) -> None:
    """Raise the size limit of multipart posts to these endpoints, before the CSRF check reads them.

    A post may carry ``FILES_PER_POST`` files of the largest size; each file is
    then checked against its field's own limit, on its field.
    """
    def hook() -> None:
        """Let a form with files be as large as its files may be."""
        if request.endpoint in endpoints and request.mimetype == "multipart/form-data":
            request.max_content_length = settings().max_bytes * FILES_PER_POST + MULTIPART_MARGIN
    blueprint.record_once(
        lambda state: state.app.before_request_funcs.setdefault(None, []).insert(0, hook))


def receive(spec: FormSpec, form: Any, user: User) -> tuple[Any, dict[str, Message]]:
    """Keep the files chosen in the form's file fields; return the form naming them, and errors.

    A new file replaces the one of a single-file field and joins those of a
    multiple one; a kept file is one whose box stays ticked.
    """
    rules = file_fields.fields_of(spec)
    if not rules or request.method != "POST":
        return form, {}
    values, errors, session = MultiDict(form), {}, db.session()
    for name, rule in rules.items():
        posted = _kept(values, name, rule.multiple)
        found = file_fields.by_id(session, posted)
        kept = [i for i in posted if i in found and may_see(found[i], user)]
        for chosen in request.files.getlist(name):
            if not chosen or not chosen.filename:
                continue
            try:
                stored = file_fields.receive(session, settings(), spec, name, chosen.stream,
                                             chosen.filename, user)
            except files.FileRefused as refused:
                errors[name] = refused.message
                continue
            session.commit()
            kept = [*kept, str(stored.id)] if rule.multiple else [str(stored.id)]
        _put(values, name, list(dict.fromkeys(kept)), rule.multiple)
    return values, errors


def refuse(spec: FormSpec, form: Any, refused: dict[str, Message]) -> None:
    """Raise InvalidSubmission if a chosen file was refused, naming every field's problem.

    Task and start forms call it before the flow runtime runs, so that nothing
    is completed without a file the user meant to send.
    """
    if refused:
        _, errors = validate_submission(spec, form, str(current_app.config["ANDON"].timezone))
        raise InvalidSubmission({**errors, **refused}, form)


def _kept(values: MultiDict[str, str], name: str, multiple: bool) -> list[str]:
    """Return the ids of the files whose boxes stay ticked."""
    if not multiple:
        return file_fields.ids_of(values.get(name))
    prefix = f"{name}["
    return file_fields.ids_of([value for key, value in values.items(multi=True)
                               if key.startswith(prefix) and key != child(name, ROWS)])


def _put(values: MultiDict[str, str], name: str, ids: list[str], multiple: bool) -> None:
    """Write a file field's ids back into the form as the reader of forms expects them."""
    for key in [k for k in values if k == name or k.startswith(f"{name}[")]:
        values.pop(key)
    if not multiple:
        if ids:
            values[name] = ids[0]
        return
    values[child(name, ROWS)] = str(len(ids))
    for index, file_id in enumerate(ids):
        values[child(name, index)] = file_id


def describe(fields: Fields) -> Fields:
    """Give each file field its chosen files the reader may see, and the size limit that applies."""
    if not fields.multipart:
        return fields
    cap, session, user = settings().max_bytes, db.session(), _reader()
    for node in fields:
        if node.node == "field" and node.widget == "file":
            found = file_fields.by_id(session, node.extra.get("ids", []))
            node.extra = {**node.extra, "limit": files.readable_size(
                min(node.extra.get("max_bytes") or cap, cap)), "files": [
                (i, found[i].filename, found[i].size) for i in node.extra.get("ids", [])
                if i in found and user is not None and may_see(found[i], user)]}
    return fields


def _reader() -> User | None:
    """Return the signed-in user's row, if someone is signed in."""
    return db.session().get(User, current_user.id) if current_user.is_authenticated else None


def may_see(attachment: files.Attachment, user: User) -> bool:
    """Tell whether the user may see a file's name: their own, or held where they may read."""
    session = db.session()
    if attachment.uploaded_by_id == user.id:
        return True
    if attachment.record_id is not None:
        record = session.get(Record, attachment.record_id)
        return record is not None and may_read(rules_spec(session, record), user)
    if attachment.instance_id is not None:
        instance = session.get(FlowInstance, attachment.instance_id)
        return instance is not None and can_view(session, instance, user)
    return False


def send(attachment: files.Attachment) -> Response:
    """Send a file as a download under its own (maybe Chinese) name; never sniffed or inline."""
    path = files.path_of(settings(), attachment.sha256)
    if not path.exists():
        abort(404)
    mimetype = attachment.content_type
    if mimetype.split(";")[0].strip().lower() in ACTIVE_TYPES:
        mimetype = "application/octet-stream"
    response = send_file(path, mimetype=mimetype, as_attachment=True,
                         download_name=attachment.filename, max_age=0, etag=attachment.sha256)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response.headers["Cache-Control"] = "private, no-store"
    return response
