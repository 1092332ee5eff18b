"""The form builder's operations on a form definition being drafted.

A definition is the JSON an administrator could write by hand (``key``,
``title``, ``schema``, ``layout``; see ``andon.forms.schema``). The builder
adds a field of a kind from the palette, moves it, removes it, and changes its
properties, always producing that same JSON, so what the builder makes loads
with ``andon load`` and what was written by hand opens in the builder.

A field is named by its path: the property names from the top, descending into
sections (objects) and tables (arrays of objects). A top-level field keeps its
labels, help, widget and options in ``layout.fields``; a nested one keeps them
in its own schema as ``x-label``, ``x-help``, ``x-placeholder``, ``x-widget``,
``x-options`` and ``x-currency``, which the renderer reads.

Operations change the definition in place. Property edits are checked first
and raise ``InvalidSubmission`` naming the panel's inputs, changing nothing.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from andon.errors import InvalidSubmission, NotFound
from andon.forms.schema import DRAFT_2020_12, KEY_RE, option_values
from andon.i18n import N_, Message, in_every_locale, localize

Path = tuple[str, ...]
LOCALES = ("en", "zh-CN")
LONG_TEXT = 200
MAX_FIELDS = 300
# Layout entries of a top-level field and the schema keywords a nested field keeps them in.
NESTED = {"label": "x-label", "help": "x-help", "placeholder": "x-placeholder",
          "widget": "x-widget", "options": "x-options", "currency": "x-currency",
          "width": "x-width", "form": "x-form"}
WIDTHS = ("full", "half", "third")
# Widgets that make a kind of their own (text, number, radio and textarea only draw one).
WIDGET_KINDS = frozenset({"money", "percent", "user", "group", "orgunit", "taxonomy", "record",
                          "file"})
TOP_ONLY = frozenset({"taxonomy", "computed", "user", "group", "orgunit", "file"})


@dataclass(frozen=True)
class Kind:
    """A field type of the palette: what a new field of it is in schema and layout."""

    name: str
    label: str
    schema: dict[str, Any]
    widget: str | None = None
    group: str = "basic"


def _options_schema() -> dict[str, Any]:
    """Return the schema of a new choice field with two options."""
    return {"type": "string", "enum": ["option_1", "option_2"]}


PALETTE: tuple[Kind, ...] = (
    Kind("text", N_("Text"), {"type": "string", "maxLength": LONG_TEXT}),
    Kind("textarea", N_("Long text"), {"type": "string", "maxLength": 4000}, "textarea"),
    Kind("number", N_("Number"), {"type": "number"}),
    Kind("integer", N_("Whole number"), {"type": "integer"}),
    Kind("money", N_("Money"), {"type": "number", "multipleOf": 0.01}, "money"),
    Kind("percent", N_("Percent"), {"type": "number", "minimum": 0, "maximum": 100}, "percent"),
    Kind("date", N_("Date"), {"type": "string", "format": "date"}),
    Kind("datetime", N_("Date and time"), {"type": "string", "format": "date-time"}),
    Kind("time", N_("Time"), {"type": "string", "format": "time"}),
    Kind("email", N_("Email"), {"type": "string", "format": "email"}),
    Kind("url", N_("Web address"), {"type": "string", "format": "uri"}),
    Kind("yesno", N_("Yes / no"), {"type": "boolean"}),
    Kind("select", N_("Drop-down"), _options_schema(), None, "choice"),
    Kind("radio", N_("Radio buttons"), _options_schema(), "radio", "choice"),
    Kind("checkboxes", N_("Checkboxes"),
         {"type": "array", "items": _options_schema(), "uniqueItems": True}, None, "choice"),
    Kind("user", N_("Person"), {"type": "string"}, "user", "people"),
    Kind("group", N_("Group"), {"type": "string"}, "group", "people"),
    Kind("orgunit", N_("Org unit"), {"type": "string"}, "orgunit", "people"),
    Kind("taxonomy", N_("Taxonomy code"), {"type": "string"}, "taxonomy", "choice"),
    Kind("record", N_("Record link"), {"type": "integer"}, "record", "advanced"),
    Kind("file", N_("File attachments"), {"type": "array", "items": {"type": "string"}},
         "file", "advanced"),
    Kind("computed", N_("Computed"), {"type": "number"}, None, "advanced"),
    Kind("section", N_("Section"), {"type": "object", "properties": {}}, None, "layout"),
    Kind("table", N_("Table"),
         {"type": "array", "items": {"type": "object", "properties": {}}}, None, "layout"),
)
KINDS = {kind.name: kind for kind in PALETTE}
GROUPS = (("basic", N_("Basic fields")), ("choice", N_("Choices")),
          ("people", N_("People")), ("advanced", N_("Links and computed")),
          ("layout", N_("Layout")))
OTHER = Kind("other", N_("Other (edit in JSON)"), {})
FORMAT_KINDS = {"date": "date", "date-time": "datetime", "time": "time", "email": "email",
                "uri": "url"}


@dataclass
class Node:
    """One field on the builder's canvas."""

    path: Path
    label: str
    kind: Kind
    required: bool
    children: list[Node] = field(default_factory=list)

    @property
    def key(self) -> str:
        """Return the path as the builder's pages name it (``lines/qty``)."""
        return "/".join(self.path)

    @property
    def container(self) -> bool:
        """Tell whether fields can be added inside this one."""
        return self.kind.name in ("section", "table")


def new_definition(key: str, title: Mapping[str, str]) -> dict[str, Any]:
    """Return an empty definition with a key and a title, or raise naming the bad input."""
    errors: dict[str, Message] = {}
    if not KEY_RE.match(key):
        errors["key"] = Message(N_("Use lower-case letters, digits and '_' for the key, "
                                   "starting with a letter."))
    titles = {locale: text.strip() for locale, text in title.items() if text.strip()}
    if not titles:
        errors["title_en"] = Message(N_("Give the form a title in at least one language."))
    if errors:
        raise InvalidSubmission(errors, {"key": key, **{f"title_{k}": v
                                                        for k, v in title.items()}})
    return {"key": key, "title": titles,
            "schema": {"$schema": DRAFT_2020_12, "type": "object", "properties": {},
                       "required": []},
            "layout": {"order": [], "fields": {}}}


def parse_path(text: str) -> Path:
    """Return the path a page posted (``lines/qty``)."""
    return tuple(part for part in text.split("/") if part)


def outline(definition: Mapping[str, Any], locale: str) -> list[Node]:
    """Return the canvas: the fields in order, with sections' and tables' fields inside."""
    schema = definition.get("schema")
    if not isinstance(schema, dict) or not isinstance(schema.get("properties", {}), dict):
        return []
    return _nodes(definition, schema, (), locale)


def _nodes(definition: Mapping[str, Any], owner: Mapping[str, Any], prefix: Path,
           locale: str) -> list[Node]:
    """Return the nodes of the properties ``owner`` holds, in display order."""
    props = owner.get("properties", {})
    names = list(props) if prefix else _top_order(definition)
    required = set(owner.get("required", []) or [])
    nodes = []
    for name in names:
        prop = props[name]
        path = (*prefix, name)
        node = Node(path, _label(definition, path, locale) or name, kind_of(definition, path),
                    name in required)
        inner = _holder(prop)
        if inner is not None and node.container:
            node.children = _nodes(definition, inner, path, locale)
        nodes.append(node)
    return nodes


def _top_order(definition: Mapping[str, Any]) -> list[str]:
    """Return the top-level names in layout order, unlisted ones after in schema order."""
    props = definition["schema"].get("properties", {})
    order = definition.get("layout", {}).get("order", [])
    listed = [n for n in order if isinstance(n, str) and n in props] \
        if isinstance(order, list) else []
    return listed + [n for n in props if n not in listed]


def _holder(prop: Any) -> dict[str, Any] | None:
    """Return the schema holding a section's or table's properties, if ``prop`` has one."""
    if not isinstance(prop, dict):
        return None
    if prop.get("type") == "object" and isinstance(prop.get("properties", {}), dict):
        return prop
    items = prop.get("items")
    if prop.get("type") == "array" and isinstance(items, dict) and items.get("type") == "object":
        return items
    return None


def kind_of(definition: Mapping[str, Any], path: Path) -> Kind:
    """Return the palette kind a field is, or OTHER for what only JSON can edit."""
    prop = prop_at(definition, path)
    widget = get_entry(definition, path, "widget")
    if len(path) == 1 and "computed" in layout_entry(definition, path):
        return KINDS["computed"]
    if widget in WIDGET_KINDS:
        return KINDS[widget]
    kind = prop.get("type")
    if _holder(prop) is not None:
        return KINDS["section" if kind == "object" else "table"]
    if kind == "array":
        items = prop.get("items")
        return KINDS["checkboxes"] if option_values(items) and prop.get("uniqueItems") else OTHER
    if option_values(prop):
        return KINDS["radio" if widget == "radio" else "select"]
    if kind == "boolean":
        return KINDS["yesno"]
    if kind in ("number", "integer"):
        return KINDS[kind]
    if kind == "string":
        if prop.get("format") in FORMAT_KINDS:
            return KINDS[FORMAT_KINDS[prop["format"]]]
        long = widget == "textarea" or (prop.get("maxLength") or 0) > LONG_TEXT
        return KINDS["textarea" if long else "text"]
    return OTHER


def prop_at(definition: Mapping[str, Any], path: Path) -> dict[str, Any]:
    """Return the schema of the field at ``path`` or raise NotFound."""
    owner = owner_of(definition, path)
    prop = owner.get("properties", {}).get(path[-1])
    if not isinstance(prop, dict):
        raise NotFound(N_("There is no field %(path)s in this form."), path="/".join(path))
    return prop


def owner_of(definition: Mapping[str, Any], path: Path) -> dict[str, Any]:
    """Return the schema whose properties hold the last name of ``path``."""
    if not path:
        raise NotFound(N_("There is no field %(path)s in this form."), path="")
    owner = definition["schema"]
    for name in path[:-1]:
        inner = _holder(owner.get("properties", {}).get(name))
        if inner is None:
            raise NotFound(N_("There is no field %(path)s in this form."), path="/".join(path))
        owner = inner
    return owner  # type: ignore[no-any-return]


def layout_entry(definition: Mapping[str, Any], path: Path) -> dict[str, Any]:
    """Return the layout entry of a top-level field (empty for a nested one)."""
    if len(path) != 1:
        return {}
    entry = definition.get("layout", {}).get("fields", {}).get(path[0], {})
    return entry if isinstance(entry, dict) else {}


def get_entry(definition: Mapping[str, Any], path: Path, name: str) -> Any:
    """Return a layout-like entry (label, help, widget, ...) of any field."""
    if len(path) == 1:
        return layout_entry(definition, path).get(name)
    return prop_at(definition, path).get(NESTED.get(name, name))


def set_entry(definition: dict[str, Any], path: Path, name: str, value: Any) -> None:
    """Set (or with None or an empty value, remove) a layout-like entry of a field."""
    if len(path) == 1:
        fields = definition.setdefault("layout", {}).setdefault("fields", {})
        target = fields.setdefault(path[0], {})
    else:
        target, name = prop_at(definition, path), NESTED.get(name, name)
    if value in (None, "", {}, []):
        target.pop(name, None)
    else:
        target[name] = value


def _label(definition: Mapping[str, Any], path: Path, locale: str) -> str:
    """Return a field's label in ``locale``, else its title."""
    text = get_entry(definition, path, "label") or prop_at(definition, path).get("title")
    return localize(text, locale)


def add_field(definition: dict[str, Any], kind_name: str, into: Path = (),
              after: Path | None = None) -> Path:
    """Add a field of a palette kind inside ``into`` (a section or table, or the top).

    It goes after ``after`` when that is a field of the same container, else last.
    """
    kind = KINDS.get(kind_name)
    if kind is None:
        raise NotFound(N_("There is no field type %(kind)s."), kind=kind_name)
    if into and kind.name in TOP_ONLY:
        raise InvalidSubmission({"kind": Message(N_(
            "A field of this type can only be placed at the top level of the form, "
            "not inside a section or table."))}, {})
    if sum(1 for _ in _all_paths(definition)) >= MAX_FIELDS:
        raise InvalidSubmission({"kind": Message(N_("A form can have at most %(count)s fields."),
                                                 {"count": MAX_FIELDS})}, {})
    holder = definition["schema"] if not into else _holder(prop_at(definition, into))
    if holder is None:
        raise InvalidSubmission({"kind": Message(N_(
            "Fields can only be added inside a section or a table."))}, {})
    props = holder.setdefault("properties", {})
    name = _free_name(props, kind.name)
    names = list(props) if into else _top_order(definition)
    position = names.index(after[-1]) + 1 if after and after[:-1] == into \
        and after[-1] in names else len(names)
    names.insert(position, name)
    props[name] = copy.deepcopy(kind.schema)
    _reorder(definition, into, names)
    path = (*into, name)
    set_entry(definition, path, "label", in_every_locale(Message(kind.label)))
    if kind.widget is not None:
        set_entry(definition, path, "widget", kind.widget)
    if kind.name in ("select", "radio", "checkboxes"):
        set_entry(definition, path, "options", {
            f"option_{n}": in_every_locale(Message(N_("Option %(number)s"), {"number": n}))
            for n in (1, 2)})
    if kind.name == "computed":
        set_entry(definition, path, "computed", "0")
    if kind.name == "file":
        set_entry(definition, path, "multiple", True)
    return path


def _free_name(props: Mapping[str, Any], base: str) -> str:
    """Return ``base_N`` with the lowest N not used among ``props``."""
    number = 1
    while f"{base}_{number}" in props:
        number += 1
    return f"{base}_{number}"


def _all_paths(definition: Mapping[str, Any]) -> list[Path]:
    """Return the path of every field the builder can see."""
    found: list[Path] = []

    def walk(nodes: list[Node]) -> None:
        for node in nodes:
            found.append(node.path)
            walk(node.children)

    walk(outline(definition, "en"))
    return found


def _reorder(definition: dict[str, Any], into: Path, names: list[str]) -> None:
    """Put the properties of a container (and, at the top, the layout order) in ``names``."""
    holder = definition["schema"] if not into else _holder(prop_at(definition, into))
    assert holder is not None
    props = holder["properties"]
    holder["properties"] = {name: props[name] for name in names}
    if not into:
        definition.setdefault("layout", {})["order"] = list(names)


def move_field(definition: dict[str, Any], path: Path, offset: int) -> None:
    """Move a field up (``-1``) or down (``+1``) among its siblings; past an end, nothing."""
    into = path[:-1]
    prop_at(definition, path)
    names = list(owner_of(definition, path)["properties"]) if into else _top_order(definition)
    index = names.index(path[-1])
    target = max(0, min(len(names) - 1, index + offset))
    names.insert(target, names.pop(index))
    _reorder(definition, into, names)


def move_to(definition: dict[str, Any], path: Path, before: str | None) -> None:
    """Move a field just before its sibling named ``before`` (None: to the end)."""
    into = path[:-1]
    prop_at(definition, path)
    names = list(owner_of(definition, path)["properties"]) if into else _top_order(definition)
    names.remove(path[-1])
    names.insert(names.index(before) if before is not None and before in names else len(names),
                 path[-1])
    _reorder(definition, into, names)


def remove_field(definition: dict[str, Any], path: Path) -> None:
    """Remove a field (and, for a section or table, what is inside it)."""
    owner = owner_of(definition, path)
    prop_at(definition, path)
    del owner["properties"][path[-1]]
    drop_required(owner, path[-1])
    if len(path) == 1:
        layout = definition.get("layout", {})
        layout.get("fields", {}).pop(path[0], None)
        if isinstance(layout.get("order"), list):
            layout["order"] = [n for n in layout["order"] if n != path[0]]


def drop_required(owner: dict[str, Any], name: str) -> None:
    """Take ``name`` off the owner's required list."""
    required = [n for n in owner.get("required", []) if n != name]
    if required or "required" in owner:
        owner["required"] = required


def rename_field(definition: dict[str, Any], path: Path, name: str) -> Path:
    """Rename a field, keeping its place, its required mark and its layout entry."""
    owner = owner_of(definition, path)
    old = path[-1]
    owner["properties"] = {(name if key == old else key): value
                           for key, value in owner["properties"].items()}
    if old in owner.get("required", []):
        owner["required"] = [name if key == old else key for key in owner["required"]]
    if len(path) == 1:
        layout = definition.setdefault("layout", {})
        fields = layout.get("fields", {})
        if old in fields:
            layout["fields"] = {(name if key == old else key): value
                                for key, value in fields.items()}
        if isinstance(layout.get("order"), list):
            layout["order"] = [name if key == old else key for key in layout["order"]]
    return (*path[:-1], name)
