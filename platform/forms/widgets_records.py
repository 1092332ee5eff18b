"""Reading and showing a record-reference field's value without the database.

A record field (layout ``{"widget": "record", "form": "suppliers"}``, or a
nested property with ``"x-widget": "record", "x-form": "suppliers"``) is an
integer property holding the referenced record's id. Users pick a record
through a search box (``andon.forms.record_refs``); without JavaScript they
type its number, with or without the ``#`` the pages show before it.
Whether that record exists and may be read is checked on save, with the database.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from andon.i18n import N_, Message

WIDGET = "record"
BAD_NUMBER = N_("Type the number of a record (such as 12), or search and choose one.")


def read_id(text: str, schema: Mapping[str, Any]) -> int:
    """Return the record id typed as ``12`` or ``#12``; ValueError(Message) if it is not one."""
    cleaned = text.strip().removeprefix("#").strip()
    if not cleaned.isascii() or not cleaned.isdigit() or int(cleaned) < 1:
        raise ValueError(Message(BAD_NUMBER))
    return int(cleaned)


def show_id(value: Any, schema: Mapping[str, Any], layout: Mapping[str, Any],
            locale: str) -> str:
    """Return a stored id as readers see it when its title is not looked up: ``#12``."""
    return f"#{value}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def target_form(schema: Mapping[str, Any], layout: Mapping[str, Any]) -> str | None:
    """Return the key of the form a record field points at: the layout's, else ``x-form``."""
    key = layout.get("form") or schema.get("x-form")
    return key if isinstance(key, str) and key else None
