"""Uploaded files: names made safe, types and sizes checked, bytes kept once by their hash."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from sqlalchemy import select

from andon.files import (
    DEFAULT_MAX_BYTES,
    Attachment,
    FileRefused,
    UploadSettings,
    clean_name,
    content_type,
    path_of,
    store,
)


@pytest.mark.parametrize(("given", "kept"), [
    ("验收报告.pdf", "验收报告.pdf"),
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\li\\周报 第3周.docx", "周报 第3周.docx"),
    ('a<b>:"c|?*.txt', "a_b_c_.txt"),
    ("  spaced   out .csv ", "spaced out .csv"),
    ("\x00\x1f", "file"),
    ("..", "file"),
])
def test_names_lose_folders_and_unsafe_characters_but_keep_chinese(given, kept):
    assert clean_name(given) == kept


def test_a_long_name_is_cut_keeping_its_extension():
    name = clean_name("很" * 300 + ".xlsx")
    assert len(name) == 200 and name.endswith(".xlsx")


def test_the_type_comes_from_the_name_not_from_the_client():
    assert content_type("a.pdf") == "application/pdf"
    assert content_type("mail.msg") == "application/vnd.ms-outlook"
    assert content_type("x.unknown") == "application/octet-stream"


def test_settings_come_from_the_environment(tmp_path):
    default = UploadSettings.from_env({}, tmp_path)
    assert default.folder == (tmp_path / "uploads").resolve()
    assert default.max_bytes == DEFAULT_MAX_BYTES == 20 * 1024 * 1024
    assert {"pdf", "docx", "xlsx", "png", "txt", "csv", "zip", "eml", "msg"} <= default.types
    chosen = UploadSettings.from_env({"ANDON_UPLOAD_MAX_BYTES": "100",
                                      "ANDON_UPLOAD_TYPES": ".PDF, txt"}, tmp_path)
    assert chosen.max_bytes == 100 and chosen.types == {"pdf", "txt"}
    with pytest.raises(ValueError, match="ANDON_UPLOAD_MAX_BYTES"):
        UploadSettings.from_env({"ANDON_UPLOAD_MAX_BYTES": "lots"}, tmp_path)


@pytest.fixture
def settings(tmp_path: Path) -> UploadSettings:
    return UploadSettings(folder=tmp_path / "files", max_bytes=1000)


def test_a_file_is_kept_under_its_hash_and_described(session, staff, settings):
    content = "项目周报\n".encode() * 10
    attachment = store(session, settings, io.BytesIO(content), "周报.txt", staff["pm"])
    session.commit()
    digest = hashlib.sha256(content).hexdigest()
    row = session.scalar(select(Attachment))
    assert (row.filename, row.size, row.sha256, row.content_type) == (
        "周报.txt", len(content), digest, "text/plain")
    assert row.uploaded_by.username == "pm" and row.id == attachment.id
    assert path_of(settings, digest).read_bytes() == content
    again = store(session, settings, io.BytesIO(content), "copy.txt", staff["pm"])
    assert again.sha256 == digest
    assert [p.name for p in settings.folder.rglob("*") if p.is_file()] == [digest]


def test_too_large_refused_and_empty_files_are_named_and_leave_nothing(session, staff,
                                                                       settings):
    with pytest.raises(FileRefused, match="“大.zip” was not attached: it is larger than the "
                                          "limit of 1000 B"):
        store(session, settings, io.BytesIO(b"x" * 1001), "大.zip", staff["pm"])
    with pytest.raises(FileRefused, match=r"files of type \.bat are not accepted"):
        store(session, settings, io.BytesIO(b"echo"), "run.bat", staff["pm"])
    with pytest.raises(FileRefused, match="it is empty"):
        store(session, settings, io.BytesIO(b""), "empty.pdf", staff["pm"])
    assert session.scalar(select(Attachment)) is None
    assert [p for p in settings.folder.rglob("*") if p.is_file()] == []
