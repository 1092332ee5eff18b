"""Form fields whose options come from a taxonomy: checking, picking, validating, reading.

A string property becomes a taxonomy field through its layout entry:
``{"widget": "taxonomy", "taxonomy": "causes", "levels": 3, "leaf_only": true}``.
``levels`` cuts the tree below that depth; with ``leaf_only`` (the default)
only the ends of the cut tree can be chosen. A column of a table names the same
in its schema: ``{"type": "string", "x-widget": "taxonomy", "x-taxonomy": "causes",
"x-levels": 3}`` (``x-leaf_only`` too); its inputs are ``cases[0][cause]``.
New values must be codes that are offered and not retired; a retired code
already stored stays valid when it comes back unchanged, and reads as its
path marked retired.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from andon.errors import InvalidDefinition, NotFound
from andon.forms import taxonomies
from andon.forms.nodes import Fields, walk
from andon.forms.schema import FormSpec
from andon.i18n import N_, Message

WIDGET = "taxonomy"
RETIRED = N_("%(label)s (retired)")


@dataclass(frozen=True)
class Hint:
    """What a field's layout asks of its taxonomy."""

    key: str
    levels: int = taxonomies.MAX_DEPTH
    leaf_only: bool = True

    def offers(self, tree: taxonomies.Taxonomy, code: str) -> bool:
        """Tell whether the picker offers ``code`` (retired or not)."""
        node = tree.get(code)
        if node is None or node.depth > self.levels:
            return False
        return not self.leaf_only or node.depth == self.levels or not node.children


@dataclass(frozen=True)
class Choice:
    """One option of a picker."""

    code: str
    label: str
    retired: bool = False


def hints(spec: FormSpec) -> dict[str, Hint]:
    """Return the taxonomy hint of every taxonomy field of a form, by field name."""
    found = {}
    for name in spec.order():
        layout = spec.field_layout(name)
        if layout.get("widget") == WIDGET and isinstance(layout.get("taxonomy"), str):
            found[name] = Hint(layout["taxonomy"], int(layout.get("levels") or
                                                       taxonomies.MAX_DEPTH),
                               bool(layout.get("leaf_only", True)))
    return found


def columns(spec: FormSpec) -> dict[tuple[str, str], Hint]:
    """Return the hint of every taxonomy column of a table, by (table, column)."""
    found = {}
    for table, column, prop in _columns(spec):
        if isinstance(prop.get("x-taxonomy"), str):
            found[(table, column)] = Hint(prop["x-taxonomy"], int(prop.get("x-levels") or
                                                                  taxonomies.MAX_DEPTH),
                                          bool(prop.get("x-leaf_only", True)))
    return found


def _columns(spec: FormSpec) -> list[tuple[str, str, Mapping[str, Any]]]:
    """Return the table columns drawn as taxonomy pickers: (table, column, property)."""
    found = []
    for table in spec.order():
        items = (spec.properties.get(table) or {}).get("items")
        if not isinstance(items, Mapping) or not isinstance(items.get("properties"), Mapping):
            continue
        for column, prop in items["properties"].items():
            if isinstance(prop, Mapping) and prop.get("x-widget") == WIDGET:
                found.append((table, column, prop))
    return found


def _hint_of(found: Mapping[str, Hint], cells: Mapping[tuple[str, str], Hint],
             name: str) -> Hint | None:
    """Return the hint of an input name: a top-level field or a table cell."""
    cell = CELL.match(name)
    return cells.get((cell[1], cell[2])) if cell else found.get(name)


CELL = re.compile(r"^(\w+)\[\d+\]\[(\w+)\]$")


def check_form(session: Session, spec: FormSpec, filename: str) -> None:
    """Refuse a form whose taxonomy fields are malformed or name a taxonomy that is missing."""
    problems: list[tuple[str, str]] = []
    for name in spec.order():
        layout = spec.field_layout(name)
        if layout.get("widget") == WIDGET:
            problems += _field_problems(session, spec.properties[name], layout,
                                        f"$.layout.fields.{name}")
    for table, column, prop in _columns(spec):
        layout = {"taxonomy": prop.get("x-taxonomy"), "levels": prop.get("x-levels", 1),
                  "leaf_only": prop.get("x-leaf_only", True)}
        problems += _field_problems(session, prop, layout,
                                    f"$.schema.properties.{table}.items.properties.{column}")
    if problems:
        raise InvalidDefinition(N_("The form definition %(file)s is not valid."),
                                problems=problems, file=filename)


def _field_problems(session: Session, prop: Mapping[str, Any], layout: Mapping[str, Any],
                    path: str) -> list[tuple[str, str]]:
    """Return the problems of one taxonomy field's property and layout."""
    problems = []
    if prop.get("type") not in ("string", ["string", "null"], ["null", "string"]):
        problems.append((path, "A taxonomy field must be a property of type string."))
    levels = layout.get("levels", 1)
    if not isinstance(levels, int) or isinstance(levels, bool) or not (
            1 <= levels <= taxonomies.MAX_DEPTH):
        problems.append((f"{path}.levels",
                         f"Levels must be a whole number from 1 to {taxonomies.MAX_DEPTH}."))
    if not isinstance(layout.get("leaf_only", True), bool):
        problems.append((f"{path}.leaf_only", "leaf_only must be true or false."))
    key = layout.get("taxonomy")
    if not isinstance(key, str) or not key:
        problems.append((f"{path}.taxonomy", "Name the taxonomy the options come from."))
    elif not taxonomies.exists(session, key):
        problems.append((f"{path}.taxonomy", f"There is no taxonomy named {key!r}; load it "
                                             "first (definitions/taxonomies/)."))
    return problems


def validate_codes(session: Session, spec: FormSpec, data: Mapping[str, Any],
                   previous: Mapping[str, Any] | None = None) -> dict[str, Message]:
    """Return a Message per taxonomy field whose code may not be chosen.

    ``previous`` is what the record held before: a retired code it already had
    may stay when the record is saved again unchanged.
    """
    errors = {}
    for name, code, hint, before in _stored(spec, data, previous or {}):
        if not isinstance(code, str) or not code:
            continue
        try:
            tree = taxonomies.current(session, hint.key)
        except NotFound as missing:
            errors[name] = missing.message
            continue
        message = _code_message(tree, hint, code, before == code)
        if message is not None:
            errors[name] = message
    return errors


def _stored(spec: FormSpec, data: Mapping[str, Any], previous: Mapping[str, Any]
            ) -> list[tuple[str, Any, Hint, Any]]:
    """Return each taxonomy value: (input name, code, hint, the code held before)."""
    found = [(name, data.get(name), hint, previous.get(name))
             for name, hint in hints(spec).items()]
    for (table, column), hint in columns(spec).items():
        rows, old = data.get(table), previous.get(table)
        old_codes = {row.get(column) for row in old if isinstance(row, Mapping)} \
            if isinstance(old, list) else set()
        for index, row in enumerate(rows if isinstance(rows, list) else []):
            if isinstance(row, Mapping):
                code = row.get(column)
                found.append((f"{table}[{index}][{column}]", code, hint,
                              code if code in old_codes else None))
    return found


def _code_message(tree: taxonomies.Taxonomy, hint: Hint, code: str,
                  kept: bool) -> Message | None:
    """Return why ``code`` may not be stored in a field, or None if it may."""
    if tree.get(code) is None or (not hint.offers(tree, code) and not kept):
        node = tree.get(code)
        if node is not None and node.depth < hint.levels and node.children:
            return Message(N_("Choose a more specific entry under %(label)s."),
                           {"label": {loc: tree.label(code, loc) for loc in taxonomies.LOCALES}})
        return Message(N_("%(code)s is not in the list; choose one of the listed options."),
                       {"code": code})
    if tree.is_retired(code) and not kept:
        return Message(N_("%(label)s is retired and can no longer be chosen; choose another."),
                       {"label": {loc: tree.label(code, loc) for loc in taxonomies.LOCALES}})
    return None


def pickers(session: Session, spec: FormSpec, built: Fields, locale: str) -> Fields:
    """Give each taxonomy field its options, grouped by their parent's path, and its path."""
    found, cells = hints(spec), columns(spec)
    for node in walk(list(built)):
        hint = _hint_of(found, cells, node.name) if node.node == "field" else None
        if hint is not None and node.widget == WIDGET:
            node.extra = _picker(session, node.value, hint, locale)
    return built


def _picker(session: Session, value: str, hint: Hint, locale: str) -> dict[str, Any]:
    """Return a picker's taxonomy, option groups (retired only when stored) and shown path."""
    try:
        tree = taxonomies.current(session, hint.key)
    except NotFound:
        return {"taxonomy": hint.key, "groups": [], "shown": ""}
    groups: dict[str, list[Choice]] = {}
    for node in tree.walk():
        retired = tree.is_retired(node.code)
        if hint.offers(tree, node.code) and (not retired or node.code == value):
            group = tree.label(node.parent, locale) if node.parent else ""
            groups.setdefault(group, []).append(Choice(node.code, node.text(locale), retired))
    shown = tree.label(value, locale) if value else ""
    if value and not any(c.code == value for g in groups.values() for c in g):
        groups.setdefault("", []).append(Choice(value, shown, tree.is_retired(value)))
    return {"taxonomy": hint.key, "groups": list(groups.items()), "shown": shown}


def readable(session: Session, spec: FormSpec, data: Mapping[str, Any], locale: str,
             translate: Callable[[str], str] = str) -> dict[str, Any]:
    """Return the data with every taxonomy code replaced by its path, retired ones marked."""
    shown = dict(data)
    for name, hint in hints(spec).items():
        code = data.get(name)
        if isinstance(code, str) and code:
            shown[name] = shown_code(session, hint.key, code, locale, translate)
    for (table, column), hint in columns(spec).items():
        rows = shown.get(table)
        if isinstance(rows, list):
            shown[table] = [{**row, column: shown_code(session, hint.key, row[column], locale,
                                                       translate)}
                            if isinstance(row, Mapping) and isinstance(row.get(column), str)
                            and row.get(column) else row for row in rows]
    return shown


def shown_code(session: Session, key: str, code: str, locale: str,
               translate: Callable[[str], str] = str) -> str:
    """Return a stored code as readers see it: its path, marked when retired."""
    text = taxonomies.label(session, key, code, locale)
    try:
        retired = taxonomies.current(session, key).is_retired(code)
    except NotFound:
        return text
    return translate(RETIRED) % {"label": text} if retired else text


def refusal(tree: taxonomies.Taxonomy, hint: Hint, code: str) -> Message | None:
    """Return why a new ``code`` may not be chosen in a field of ``hint``, or None."""
    return _code_message(tree, hint, code, kept=False)


def picker(session: Session, value: str, hint: Hint, locale: str) -> dict[str, Any]:
    """Return the picker of one taxonomy value outside a form (e.g. a late task's cause)."""
    return _picker(session, value, hint, locale)
