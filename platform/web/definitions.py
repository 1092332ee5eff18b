"""What the form builder and the flow designer share: titles posted, versions compared, files.

Both edit a catalogue definition as a draft (``andon.catalog``) and publish
versions; these helpers read their common inputs and pick what to compare.
"""

from __future__ import annotations

from typing import Any

from flask import Response, request

from andon import catalog


def posted_title() -> dict[str, str]:
    """Return the title typed in the new-definition form, by locale."""
    return {"en": request.form.get("title_en", ""), "zh-CN": request.form.get("title_zh", "")}


def whole(text: str | None) -> int:
    """Return a posted whole number (a revision, a version), 0 when there is none."""
    return int(text) if text and text.isdigit() else 0


def posted_revision() -> int:
    """Return the draft revision the editor's page read (0 when none was posted)."""
    return whole(request.form.get("revision"))


def pair(found: list[catalog.DefinitionVersion]) -> tuple[int, int, dict[int, Any]]:
    """Return the older and newer version numbers to compare (``?a=&b=``, else the last two).

    The versions come newest first; the third value maps numbers to versions.
    """
    numbers = [v.number for v in found]
    older, newer = whole(request.args.get("a")), whole(request.args.get("b"))
    if newer not in numbers and numbers:
        newer = numbers[0]
    if older not in numbers and len(numbers) > 1:
        older = numbers[1]
    return older, newer, {v.number: v for v in found}


def download(source: str, filename: str, mimetype: str) -> Response:
    """Return a definition's source as a file to save."""
    return Response(source, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
