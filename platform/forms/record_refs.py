"""Record-reference fields: where they point, checking, searching, titles and reading.

Layout ``{"widget": "record", "form": "suppliers"}`` on an integer property
(a nested property says ``"x-widget": "record", "x-form": "suppliers"``)
stores the id of a record of that form. The form is checked when the
definition loads (``check_form``); a form may point at its own records.
On save the id must name a record of that form that the user may read
(one already stored may stay unchanged: another editor may have picked a
record this user cannot see). People see a record as its title: ``#12``
and the first two values of the record that are not empty.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from andon import catalog
from andon.errors import Forbidden, InvalidDefinition
from andon.forms.fields import display, supported
from andon.forms.filters import list_records
from andon.forms.models import Record
from andon.forms.names import child
from andon.forms.nodes import Fields, walk
from andon.forms.record_access import may_read, published_spec, readable_keys, spec_at
from andon.forms.schema import FormSpec
from andon.forms.shapes import MAX_DEPTH, Schema, Shapes, shapes_for
from andon.forms.widgets_records import WIDGET, read_id, target_form
from andon.i18n import N_, Message, localize
from andon.identity.models import User

UNKNOWN = N_("There is no record #%(id)s among the %(form)s records you may read; "
             "search and choose one.")
SEARCH_LIMIT = 20
CHUNK = 1000
TITLE_PARTS, TITLE_WIDTH = 2, 60
KEY_RE = re.compile(r"[^\[\]]+")


@dataclass(frozen=True)
class Ref:
    """One reference in a record's data: the field's input name, the form and record id."""

    path: str
    form: str
    id: int


@dataclass(frozen=True)
class Titled:
    """A record people may see, by the title they know it by."""

    id: int
    form_key: str
    title: str


_by_spec: dict[int, tuple[FormSpec, bool]] = {}


def has_references(spec: FormSpec) -> bool:
    """Tell whether a form has any record field, at the top or nested (kept per FormSpec)."""
    known = _by_spec.get(id(spec))
    if known is not None and known[0] is spec:
        return known[1]
    if len(_by_spec) >= 64:
        _by_spec.pop(next(iter(_by_spec)))
    found = any(spec.field_layout(name).get("widget") == WIDGET for name in spec.order()) or any(
        True for _ in _nested(spec.schema, "$.schema", 0))
    _by_spec[id(spec)] = (spec, found)
    return found


def references(spec: FormSpec, data: Mapping[str, Any] | None) -> list[Ref]:
    """Return every reference that typed data holds, top-level and nested."""
    if not data or not has_references(spec):
        return []
    shapes, found = shapes_for(spec), []
    root = shapes.object_shape(shapes.root, data, None)
    for key, prop in root.properties.items():
        if key in data:
            found += _refs(shapes, prop, spec.field_layout(key), data[key], key, 0)
    return found


def _refs(shapes: Shapes, schema: Schema, layout: Mapping[str, Any], value: Any, path: str,
          depth: int) -> list[Ref]:
    """Return the references inside one value of ``schema``."""
    schema = shapes.resolve(schema)
    if depth > MAX_DEPTH:
        return []
    if schema.get("x-widget") == WIDGET:
        form = target_form(schema, layout)
        ok = form and isinstance(value, int) and not isinstance(value, bool)
        return [Ref(path, str(form), int(value))] if ok else []
    found: list[Ref] = []
    if isinstance(value, dict):
        shape = shapes.object_shape(schema, value, None)
        for key, prop in shape.properties.items():
            if key in value:
                found += _refs(shapes, prop, {}, value[key], child(path, key), depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _refs(shapes, shapes.item_schema(schema, index), {}, item,
                           child(path, index), depth + 1)
    return found


def steps(spec: FormSpec, path: str) -> Iterator[tuple[str, Schema, Mapping[str, Any]]]:
    """Yield (key, schema, layout) for each step of an input name such as ``lines[0][part]``."""
    keys = KEY_RE.findall(path)
    if not keys or keys[0] not in spec.properties:
        return
    shapes = shapes_for(spec)
    root = shapes.object_shape(shapes.root, {}, None)
    schema = shapes.resolve(root.properties.get(keys[0], {}))
    yield keys[0], schema, spec.field_layout(keys[0])
    for key in keys[1:]:
        if key.isdigit():
            schema = shapes.resolve(shapes.item_schema(schema, int(key)))
        else:
            schema = shapes.resolve(shapes.object_shape(schema, {}, None).properties.get(key, {}))
        yield key, schema, {}


def target_at(spec: FormSpec, path: str) -> str | None:
    """Return the form a record field at input name ``path`` points at, None if it is none."""
    last = None
    for _, schema, layout in steps(spec, path):
        last = (schema, layout)
    if last is None or last[0].get("x-widget") != WIDGET:
        return None
    return target_form(*last)


def path_label(spec: FormSpec, path: str, locale: str) -> str:
    """Return how people name the field at ``path``: labels, and row numbers from 1."""
    parts = []
    for index, (key, schema, _) in enumerate(steps(spec, path)):
        if index == 0:
            parts.append(spec.label(key, locale))
        elif key.isdigit():
            parts.append(str(int(key) + 1))
        else:
            parts.append(localize(schema.get("x-label") or schema.get("title"), locale) or key)
    return " › ".join(parts) or path


def check_form(session: Session, spec: FormSpec, filename: str) -> None:
    """Refuse a form whose record fields point at a form that is not loaded (or not integers)."""
    problems: list[tuple[str, str]] = []
    for name in spec.order():
        layout = spec.field_layout(name)
        if layout.get("widget") == WIDGET and isinstance(layout.get("form"), str):
            problems += _form_problems(session, spec, layout["form"],
                                       f"$.layout.fields.{name}.form")
    for path, node in _nested(spec.schema, "$.schema", 0):
        if node.get("type") not in ("integer", ["integer", "null"], ["null", "integer"]):
            problems.append((f"{path}.type", "A record field must be a property of type "
                                             "integer (it stores the record's number)."))
        form = node.get("x-form")
        if not isinstance(form, str) or not form:
            problems.append((f"{path}.x-form", "Name the form whose records can be chosen, "
                                               "e.g. \"x-form\": \"suppliers\"."))
        else:
            problems += _form_problems(session, spec, form, f"{path}.x-form")
    if problems:
        raise InvalidDefinition(N_("The form definition %(file)s is not valid."),
                                problems=problems, file=filename)


def _form_problems(session: Session, spec: FormSpec, key: str,
                   path: str) -> list[tuple[str, str]]:
    """Return a problem if ``key`` is neither this form nor a loaded one."""
    if key == spec.key or published_spec(session, key) is not None:
        return []
    return [(path, f"There is no form named {key!r}; load it first (definitions/forms/).")]


def _nested(node: Any, path: str, depth: int) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield (JSON path, schema) of every nested schema naming the record widget."""
    if depth > MAX_DEPTH * 3:
        return
    if isinstance(node, dict):
        if node.get("x-widget") == WIDGET and path != "$.schema":
            yield path, node
        for key, sub in node.items():
            yield from _nested(sub, f"{path}.{key}", depth + 1)
    elif isinstance(node, list):
        for index, sub in enumerate(node):
            yield from _nested(sub, f"{path}[{index}]", depth + 1)


def validate_references(session: Session, spec: FormSpec, data: Mapping[str, Any],
                        user: User, previous: Mapping[str, Any] | None = None
                        ) -> dict[str, Message]:
    """Return a Message per record field whose id names no record of its form the user may read.

    A reference already stored at the same place may stay while its record exists.
    """
    kept = {ref.path: ref.id for ref in references(spec, previous)}
    return check_many(session, spec, [data], user, [kept])[0]


def check_many(session: Session, spec: FormSpec, rows: Sequence[Mapping[str, Any]], user: User,
               kept: Sequence[Mapping[str, int]] | None = None) -> list[dict[str, Message]]:
    """Return the reference errors of each row, in a few queries however many rows there are."""
    found = [references(spec, data) for data in rows]
    wanted = sorted({ref.id for refs in found for ref in refs})
    forms: dict[int, str] = {}
    for start in range(0, len(wanted), CHUNK):
        forms.update((row[0], row[1]) for row in session.execute(
            select(Record.id, Record.form_key).where(Record.id.in_(wanted[start:start + CHUNK]))))
    readable = readable_keys(session, {ref.form for refs in found for ref in refs}, user)
    errors: list[dict[str, Message]] = []
    for index, refs in enumerate(found):
        stays = kept[index] if kept else {}
        errors.append({ref.path: _unknown(ref, readable.get(ref.form)) for ref in refs
                       if forms.get(ref.id) != ref.form
                       or (ref.form not in readable and stays.get(ref.path) != ref.id)})
    return errors


def _unknown(ref: Ref, target: FormSpec | None) -> Message:
    """Return the message of a reference to no record of its form that one may read."""
    return Message(UNKNOWN, {"id": ref.id, "form": target.title if target else ref.form})


def search(session: Session, form_key: str, text: str, user: User, locale: str,
           translate: Callable[[str], str] = str, limit: int = SEARCH_LIMIT) -> list[Titled]:
    """Return the form's records that match ``text`` (or its number), newest change first."""
    spec = FormSpec(**catalog.current(session, "form", form_key).content)
    if not may_read(spec, user):
        raise Forbidden(N_("You may not see the records of %(form)s."), form=spec.title)
    found: list[Record] = []
    try:
        wanted = session.get(Record, read_id(text, {})) if text.strip() else None
    except ValueError:
        wanted = None
    if wanted is not None and wanted.form_key == form_key:
        found.append(wanted)
    query = list_records(spec, text.removeprefix("#") if wanted else text, (), "-updated")
    found += [r for r in session.scalars(query.limit(limit)) if r not in found]
    return [Titled(r.id, r.form_key, title(spec, r.id, r.data, locale, translate))
            for r in found[:limit]]


def title(spec: FormSpec, record_id: int, data: Mapping[str, Any], locale: str,
          translate: Callable[[str], str] = str) -> str:
    """Return ``#12 Pump failure · Line 3``: the number and the first values not empty.

    References to other records are left out: their numbers say nothing.
    """
    names = [name for name, _, _ in supported(spec)]
    texts = [value if len(value) <= TITLE_WIDTH else value[:TITLE_WIDTH - 1] + "…"
             for name, (_, value) in zip(names, display(spec, locale, data, translate),
                                         strict=True)
             if value.strip() and spec.field_layout(name).get("widget") != WIDGET]
    return " ".join([f"#{record_id}", " · ".join(texts[:TITLE_PARTS])]).strip()


def titles(session: Session, ids: set[int], user: User, locale: str,
           translate: Callable[[str], str] = str) -> dict[int, Titled]:
    """Return, by id, the records among ``ids`` that the user may read, with their titles."""
    if not ids:
        return {}
    found = list(session.scalars(select(Record).where(Record.id.in_(ids))))
    readable = readable_keys(session, {r.form_key for r in found}, user)
    specs: dict[int, FormSpec] = {}
    shown = {}
    for record in found:
        if record.form_key in readable:
            spec = specs.get(record.form_version_id) or spec_at(session,
                                                                record.form_version_id)
            specs[record.form_version_id] = spec
            shown[record.id] = Titled(record.id, record.form_key,
                                      title(spec, record.id, record.data, locale, translate))
    return shown


def pickers(session: Session, spec: FormSpec, built: Fields, user: User | None, locale: str,
            translate: Callable[[str], str] = str) -> Fields:
    """Give each record field the form it searches, and the chosen record's id and title."""
    nodes = [node for node in walk(list(built)) if node.node == "field" and node.widget == WIDGET]
    chosen: dict[int, Any] = {}
    for node in nodes:
        try:
            chosen[id(node)] = read_id(node.value, {}) if node.value else None
        except ValueError:
            chosen[id(node)] = None
    known = titles(session, {i for i in chosen.values() if i}, user, locale,
                   translate) if user else {}
    for node in nodes:
        form, found = target_at(spec, node.name), known.get(chosen[id(node)] or 0)
        ok = found is not None and found.form_key == form
        node.extra = {"form": form, "record_id": found.id if found and ok else None,
                      "shown": found.title if found and ok else ""}
    return built


def readable(session: Session, spec: FormSpec, data: Mapping[str, Any], user: User | None,
             locale: str, translate: Callable[[str], str] = str) -> dict[str, Any]:
    """Return the top-level record fields' values as titles (``#12`` alone if unreadable)."""
    fields = {name: data.get(name) for name in spec.order()
              if spec.field_layout(name).get("widget") == WIDGET}
    ids = {v for v in fields.values() if isinstance(v, int) and not isinstance(v, bool)}
    known = titles(session, ids, user, locale, translate) if user else {}
    return {name: known[value].title if value in known else f"#{value}"
            for name, value in fields.items() if value in ids}
