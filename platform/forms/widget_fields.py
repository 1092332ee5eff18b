"""Fill in what Andon's widgets need beyond the schema before a form is drawn.

The web layer calls ``complete`` on the view-models ``build_fields`` returns:
taxonomy and people pickers get their options from the database, record
fields the title of the chosen record (for a reader who may read it), money and
percent fields their sign, file fields their chosen files, computed fields the
server's value, and fields whose condition does not hold are left out
(``andon.forms.widget_rules``). ``readable`` does the same for stored data
shown to readers (files by name).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy.orm import Session

from andon.forms import (
    file_fields,
    record_refs,
    taxonomy_fields,
    widget_rules,
    widgets_numbers,
    widgets_people,
)
from andon.forms.nodes import Fields, walk
from andon.forms.schema import FormSpec
from andon.identity.models import User


def complete(session: Session, spec: FormSpec, built: Fields, locale: str,
             user: User | None = None) -> Fields:
    """Return the view-models with pickers, signs, computed values and conditions applied.

    Record fields show the chosen record's title only to a ``user`` who may read it.
    """
    built = widget_rules.draw(spec, built, locale)
    built = taxonomy_fields.pickers(session, spec, built, locale)
    built = widgets_people.pickers(session, built)
    built = record_refs.pickers(session, spec, built, user, locale)
    built = file_fields.pickers(spec, built)
    props = widget_rules.spec_properties(spec)
    for node in walk(list(built)):
        if node.node == "field" and node.widget in ("money", "percent"):
            schema = props.get(node.name, {})
            sign = widgets_numbers.symbol(widgets_numbers.currency(
                schema, spec.field_layout(node.name))) if node.widget == "money" else "%"
            node.extra = {**node.extra, "sign": sign.strip(), "before": node.widget == "money"}
    return built


def readable(session: Session, spec: FormSpec, data: Mapping[str, Any], locale: str,
             translate: Callable[[str], str] = str, user: User | None = None) -> dict[str, Any]:
    """Return stored data with taxonomy codes as paths and picked keys as display names.

    Referenced records read as their titles when ``user`` may read them, else as ``#12``.
    """
    shown = taxonomy_fields.readable(session, spec, data, locale, translate)
    shown = {**shown, **{k: v for k, v in widgets_people.readable(
        session, spec, data, translate).items() if k in widgets_people.fields_of(spec)}}
    shown = {**shown, **{k: v for k, v in file_fields.readable(session, spec, data).items()
                         if k in file_fields.fields_of(spec)}}
    return {**shown, **record_refs.readable(session, spec, data, user, locale, translate)}
