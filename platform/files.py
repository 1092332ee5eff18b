"""Uploaded files: kept on disk under the instance folder, described by a database row.

The bytes live outside the database, named by their SHA-256 (so the same file
uploaded twice is stored once); the ``Attachment`` row says who uploaded what,
when, under which name, and what it belongs to. This module knows nothing of
flows: callers check who may upload and download.

| variable | default | meaning |
| --- | --- | --- |
| ANDON_UPLOAD_FOLDER | <instance>/uploads | where uploaded files are kept |
| ANDON_UPLOAD_MAX_BYTES | 20971520 (20 MB) | the largest file accepted |
| ANDON_UPLOAD_TYPES | (the list below) | comma-separated file name extensions accepted |
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import re
import tempfile
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship
from sqlalchemy.sql import Select

from andon.database import Base, utcnow
from andon.errors import AndonError
from andon.i18n import N_
from andon.identity.models import User

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
#: extensions common in delivery work: documents, office files, images, text, archives, mail
DEFAULT_TYPES = frozenset({
    "pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "ods", "odp", "rtf",
    "wps", "et", "dps", "png", "jpg", "jpeg", "gif", "webp", "bmp", "txt", "csv", "md",
    "log", "json", "xml", "zip", "7z", "rar", "gz", "eml", "msg", "vsdx", "mpp",
})
CONTENT_TYPES = {"msg": "application/vnd.ms-outlook", "eml": "message/rfc822",
                 "md": "text/markdown", "wps": "application/vnd.ms-works",
                 "et": "application/vnd.ms-excel", "dps": "application/vnd.ms-powerpoint",
                 "7z": "application/x-7z-compressed", "rar": "application/vnd.rar",
                 "mpp": "application/vnd.ms-project",
                 "vsdx": "application/vnd.ms-visio.drawing"}
MAX_NAME = 200
_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]+')
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class UploadSettings:
    """Where files go, how large they may be and which types are accepted."""

    folder: Path
    max_bytes: int = DEFAULT_MAX_BYTES
    types: frozenset[str] = DEFAULT_TYPES

    @classmethod
    def from_env(cls, env: Mapping[str, str], instance_path: Path) -> UploadSettings:
        """Read ANDON_UPLOAD_* variables; the folder defaults to <instance>/uploads."""
        folder = Path(env.get("ANDON_UPLOAD_FOLDER") or instance_path / "uploads")
        raw = env.get("ANDON_UPLOAD_MAX_BYTES", "").strip()
        try:
            limit = int(raw) if raw else DEFAULT_MAX_BYTES
        except ValueError:
            limit = 0
        if limit <= 0:
            raise ValueError(f"ANDON_UPLOAD_MAX_BYTES must be a positive number, not {raw!r}")
        listed = env.get("ANDON_UPLOAD_TYPES", "").strip()
        types = (frozenset(t.strip().lower().lstrip(".") for t in listed.split(",") if t.strip())
                 if listed else DEFAULT_TYPES)
        return cls(folder=folder.resolve(), max_bytes=limit, types=types)


class FileRefused(AndonError):
    """An upload was refused: too large, of a type not accepted, or empty."""


class Attachment(Base):
    """One uploaded file, and what it belongs to (an instance, maybe one of its tasks).

    A file chosen in a form's file field (``andon.forms.file_fields``) names that
    field in ``field`` and, once the record is saved, the record in ``record_id``.
    """

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("flow_instance.id"), index=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("task.id"))
    record_id: Mapped[int | None] = mapped_column(ForeignKey("record.id"), index=True)
    field: Mapped[str | None] = mapped_column(String(128))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    uploaded_by: Mapped[User] = relationship()


def clean_name(name: str) -> str:
    """Return a file name safe to store and send: no folders, no control or reserved characters.

    Chinese and other letters stay; a name that is nothing but unsafe becomes "file".
    """
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = " ".join(_UNSAFE.sub("_", name).split()).strip(" .")
    if len(name) > MAX_NAME:
        stem, dot, ext = name.rpartition(".")
        name = (stem[:MAX_NAME - len(ext) - 1] + dot + ext) if dot and len(ext) < 16 \
            else name[:MAX_NAME]
    return name if name.strip("_ .") else "file"


def extension(name: str) -> str:
    """Return a file name's extension, lower case, without the dot ("" when none)."""
    stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot and stem else ""


def content_type(name: str) -> str:
    """Return the type a file is served as, judged by its name (never by what the client said)."""
    ext = extension(name)
    guessed = CONTENT_TYPES.get(ext) or mimetypes.guess_type(f"x.{ext}")[0]
    return guessed or "application/octet-stream"


def store(session: Session, settings: UploadSettings, stream: BinaryIO, filename: str,
          user: User, *, instance_id: int | None = None,
          task_id: int | None = None, field: str | None = None) -> Attachment:
    """Check and keep an uploaded file; return its row, or raise FileRefused naming the file."""
    name = clean_name(filename)
    ext = extension(name)
    if ext not in settings.types:
        raise FileRefused(N_("“%(file)s” was not attached: files of type %(type)s are not "
                             "accepted. Accepted types: %(types)s."),
                          file=name, type=f".{ext}" if ext else "(none)",
                          types=", ".join(sorted(settings.types)))
    digest, size, temporary = _spool(settings, stream, name)
    if size == 0:
        temporary.unlink(missing_ok=True)
        raise FileRefused(N_("“%(file)s” was not attached: it is empty."), file=name)
    target = path_of(settings, digest)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(temporary, target)
    attachment = Attachment(instance_id=instance_id, task_id=task_id, field=field, filename=name,
                            content_type=content_type(name), size=size, sha256=digest,
                            uploaded_by_id=user.id, uploaded_at=utcnow())
    session.add(attachment)
    session.flush()
    return attachment


def _spool(settings: UploadSettings, stream: BinaryIO, name: str) -> tuple[str, int, Path]:
    """Copy the stream to a temporary file in the folder, hashing it and minding the limit."""
    settings.folder.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    handle, raw_path = tempfile.mkstemp(dir=settings.folder, prefix=".upload-")
    path = Path(raw_path)
    with os.fdopen(handle, "wb") as out:
        while chunk := stream.read(_CHUNK):
            size += len(chunk)
            if size > settings.max_bytes:
                out.close()
                path.unlink(missing_ok=True)
                raise FileRefused(N_("“%(file)s” was not attached: it is larger than the limit "
                                     "of %(limit)s."), file=name,
                                  limit=readable_size(settings.max_bytes))
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest(), size, path


def path_of(settings: UploadSettings, digest: str) -> Path:
    """Return where the file with this SHA-256 is kept."""
    if not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise ValueError("not a SHA-256 digest")
    return settings.folder / digest[:2] / digest


def of_instance(instance_id: int) -> Select[Attachment]:
    """Return the files attached to an instance or its tasks, oldest first."""
    return (select(Attachment).where(Attachment.instance_id == instance_id)
            .order_by(Attachment.uploaded_at, Attachment.id))


def readable_size(size: int) -> str:
    """Return a byte count as people read it: 512 B, 1.5 KB, 20 MB."""
    value = float(size)
    for unit in ("B", "KB", "MB"):
        if value < 1024 or unit == "MB":
            return f"{value:.0f} {unit}" if unit == "B" or value >= 10 or value == int(value) \
                else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.0f} MB"
