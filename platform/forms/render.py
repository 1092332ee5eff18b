"""Build the view-models (``andon.forms.nodes``) of a form from its schema and what was typed.

Three passes over one flat form (``andon.forms.names``): fill the defaults of
containers nobody has typed into yet, read the typed data (so conditions see
numbers and booleans), then build the nodes. Nesting stops at ``MAX_DEPTH``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from andon.forms import widgets
from andon.forms.coercion import Reader, number_text, option_text, shown_datetime, shown_time
from andon.forms.names import (
    CHOICE,
    MAX_ROWS,
    RESERVED,
    ROWS,
    child,
    dom_id,
    flatten_into,
    row_count,
    under,
)
from andon.forms.nodes import Field, Fields, Row, Section, Table, walk
from andon.forms.schema import FormSpec, option_values
from andon.forms.shapes import MAX_DEPTH, Schema
from andon.i18n import Message, localize

TEXT_WIDGETS = frozenset({"text", "textarea", "date", "email", "url", "tel", "datetime", "time"})
FORMAT_WIDGETS = {"date": "date", "date-time": "datetime", "time": "time", "email": "email",
                  "uri": "url", "url": "url"}
LONG_TEXT = 200
# Where a nested field keeps what a top-level field keeps in the layout (forms.builder writes it).
NESTED_LAYOUT = {"help": "x-help", "placeholder": "x-placeholder", "options": "x-options",
                 "width": "x-width"}
WIDTHS = frozenset({"half", "third"})  # "full", the default, draws no class
ROOT_ID = "fields-root"


class Renderer:
    """Build the nodes of one form for one reader."""

    def __init__(self, spec: FormSpec, locale: str, values: Mapping[str, Any],
                 errors: Mapping[str, Message], timezone: str | None = None) -> None:
        self.reader = Reader(spec, values, timezone)
        self.spec, self.shapes, self.flat = spec, self.reader.shapes, self.reader.flat
        self.locale, self.errors = locale, errors
        self.root = self.shapes.resolve(self.shapes.root)
        self._fill(self.root, "", 0, not any(key not in RESERVED for key in self.flat))
        self.data = self.reader.read_object(self.root, "", 0)

    def build(self) -> Fields:
        """Return the top-level nodes with the error summary."""
        children, shape = self.children(self.root, "", self.data, 0, None)
        fields = Fields(children, [])
        fields.reactive = shape.conditional
        fields.timezone = self.reader.zone.key
        fields.data = self.data
        fields.choice = self._choice(shape, "", self.spec.title_in(self.locale), "") \
            if shape.alternatives else None
        fields.summary = self._summary(fields)
        return fields

    # defaults ---------------------------------------------------------------

    def _fill(self, schema: Schema, name: str, depth: int, fresh: bool) -> None:
        """Fill defaults where nobody has typed yet: a new form, or a newly added row."""
        if depth > MAX_DEPTH:
            return
        present = name in self.flat or bool(under(self.flat, name))
        if (fresh or schema.get("readOnly")) and name and not present \
                and schema.get("default") is not None:
            flatten_into(self.flat, name, schema["default"])
        kind = self.shapes.kind(schema)
        if kind == "object":
            shape = self.shapes.object_shape(schema, {}, self.flat.get(child(name, CHOICE)))
            for prop, sub in shape.properties.items():
                self._fill(sub, child(name, prop), depth + 1, fresh)
        elif kind == "array":
            if fresh and row_count(self.flat, name) is None:
                self.flat[child(name, ROWS)] = str(_int(schema.get("minItems")))
            for index in range(row_count(self.flat, name) or 0):
                row = child(name, index)
                self._fill(self.shapes.item_schema(schema, index), row, depth + 1,
                           fresh or not (row in self.flat or under(self.flat, row)))

    # nodes ------------------------------------------------------------------

    def children(self, schema: Schema, name: str, value: Any, depth: int,
                 refresh: str | None) -> tuple[list[Any], Any]:
        """Return the nodes of an object's fields for its current value, and its shape."""
        value = value if isinstance(value, dict) else {}
        shape = self.shapes.object_shape(schema, value, self.flat.get(child(name, CHOICE)))
        nodes = []
        for prop in self._order(name, shape.properties):
            redraw = name if shape.triggered_by(prop) else refresh
            nodes.append(self.node(shape.properties[prop], child(name, prop), prop,
                                   prop in shape.required, value.get(prop), depth + 1, redraw))
        return nodes, shape

    def _order(self, name: str, props: Mapping[str, Schema]) -> list[str]:
        """Return property names in layout order at the top, in schema order below."""
        if name != "":
            return list(props)
        listed = [n for n in self.spec.order() if n in props]
        return listed + [n for n in props if n not in listed]

    def node(self, schema: Schema, name: str, key: str, required: bool, value: Any,
             depth: int, refresh: str | None) -> Any:
        """Return the node of one value: a field, a section or a table."""
        kind = self.shapes.kind(schema)
        if depth > MAX_DEPTH and kind in ("object", "array"):
            kind = "string"
        label = self.label(schema, name, key)
        built: Section | Table | Field
        if kind == "object":
            built = self.section(schema, name, label, required, value, depth, refresh)
        elif kind == "array" and not widgets.whole(schema):
            built = self.table(schema, name, label, required, value, depth, refresh)
        else:
            built = self.field(schema, name, key, kind, label, required, refresh)
        width = self._layout(schema, name).get("width")
        built.width = width if width in WIDTHS else ""
        return built

    def label(self, schema: Schema, name: str, key: str) -> str:
        """Return a label: the layout's (top level), else x-label, title or the key."""
        if name == key:
            return self.spec.label(key, self.locale) if key in self.spec.properties \
                else str(schema.get("title") or key)
        text = schema.get("x-label") or schema.get("title")
        return localize(text, self.locale) or key

    def _layout(self, schema: Schema, name: str) -> dict[str, Any]:
        """Return a field's layout entry: the layout's at the top, else its x- keywords."""
        if name in self.spec.properties:
            return self.spec.field_layout(name)
        return {entry: schema[keyword] for entry, keyword in NESTED_LAYOUT.items()
                if keyword in schema}

    def _help(self, schema: Schema, name: str) -> str:
        """Return help text: the layout's (or x-help), else the description."""
        layout = self._layout(schema, name)
        return localize(layout.get("help") or schema.get("description", ""), self.locale)

    def section(self, schema: Schema, name: str, label: str, required: bool, value: Any,
                depth: int, refresh: str | None) -> Section:
        """Return an object as a section of its fields."""
        children, shape = self.children(schema, name, value, depth, refresh)
        section = Section(name=name, label=label, id=dom_id(name), children=children,
                          help=self._help(schema, name), error=self.errors.get(name),
                          required=required, reactive=shape.conditional)
        if shape.alternatives:
            section.choice = self._choice(shape, name, label, dom_id(name))
        return section

    def _choice(self, shape: Any, name: str, label: str, target: str) -> Field:
        """Return the radio group that picks one alternative of a oneOf/anyOf."""
        options = [(str(i), localize(b.get("x-label") or b.get("title"), self.locale)
                    or str(i + 1)) for i, b in enumerate(shape.alternatives)]
        return Field(name=child(name, CHOICE), label=label, widget="radio", required=True,
                     compact=True,
                     value=str(shape.chosen), options=options, id=dom_id(child(name, "choice")),
                     refresh=name, target=_target(name))

    def table(self, schema: Schema, name: str, label: str, required: bool, value: Any,
              depth: int, refresh: str | None) -> Table:
        """Return an array as rows the user adds, removes and reorders."""
        count = row_count(self.flat, name) or 0
        values = value if isinstance(value, list) else []
        rows = []
        for index in range(count):
            item = self.shapes.item_schema(schema, index)
            row_name = child(name, index)
            row_value = values[index] if index < len(values) else None
            if self.shapes.kind(item) == "object" and depth < MAX_DEPTH:
                cells, _ = self.children(item, row_name, row_value, depth + 1, refresh)
            else:
                cell = self.node(item, row_name, str(index), False, row_value, depth + 1, refresh)
                cell.label = f"{label} {index + 1}"
                cells = [cell]
            rows.append(Row(row_name, index, cells, first=index == 0, last=index == count - 1))
        columns = self._columns(schema) or [label]
        tabular = all(isinstance(c, Field) for row in rows for c in row.cells) and all(
            len(row.cells) == len(columns) for row in rows)
        for cell in (c for row in rows for c in row.cells if isinstance(c, Field)):
            cell.compact = tabular
        read_only = bool(schema.get("readOnly"))
        return Table(name=name, label=label, id=dom_id(name), rows=rows,
                     columns=columns if tabular else [],
                     help=self._help(schema, name), error=self.errors.get(name),
                     required=required, read_only=read_only, tabular=tabular,
                     can_add=not read_only and count < _int(schema.get("maxItems"), MAX_ROWS),
                     can_remove=not read_only and count > _int(schema.get("minItems")))

    def _columns(self, schema: Schema) -> list[str]:
        """Return the column headings of a table whose rows are objects (empty for scalars)."""
        item = self.shapes.item_schema(schema, 0)
        if self.shapes.kind(item) != "object":
            return []
        shape = self.shapes.object_shape(item, {}, None)
        return [self.label(prop, f"[{key}]", key) for key, prop in shape.properties.items()]

    def field(self, schema: Schema, name: str, key: str, kind: str, label: str,
              required: bool, refresh: str | None) -> Field:
        """Return one input."""
        layout = self._layout(schema, name)
        widget, custom = _widget(kind, schema)
        target = _target(refresh) if refresh is not None else f"#field-{dom_id(name)}"
        return Field(
            name=name, label=label, widget=widget, required=required, id=dom_id(name),
            value=self._text(name, kind, schema), error=self.errors.get(name),
            options=self._options(kind, schema, layout, custom),
            chosen=[self.flat[k] for k in under(self.flat, name) if not k.endswith(f"[{ROWS}]")],
            help=self._help(schema, name),
            placeholder=localize(layout.get("placeholder", ""), self.locale),
            read_only=bool(schema.get("readOnly", False)),
            input_type=(custom.input_type if custom and custom.input_type else
                        (widgets.BUILT_IN.get(widget) or widgets.Widget()).input_type or "text"),
            template=custom.template if custom else None,
            refresh=refresh if refresh is not None else name, target=target,
            **_limits(kind, schema))

    def _text(self, name: str, kind: str, schema: Schema) -> str:
        """Return what the input of ``name`` shows."""
        text = self.flat.get(name, "")
        if kind == "boolean":
            return "on" if text.strip().lower() in ("on", "true", "1", "yes") else ""
        if schema.get("format") == "date-time" and text:
            return shown_datetime(text, self.reader.zone)
        if schema.get("format") == "time" and text:
            return shown_time(text)
        return text

    def _options(self, kind: str, schema: Schema, layout: Mapping[str, Any],
                 custom: widgets.Widget | None) -> list[tuple[str, str]]:
        """Return the (value, label) pairs of a choice."""
        if custom is not None and custom.options is not None:
            return custom.options(schema, layout, self.locale)
        if kind == "checks":
            return options(self.shapes.resolve(schema.get("items")), layout, self.locale)
        return options(schema, layout, self.locale) if kind == "enum" else []

    def _summary(self, fields: Fields) -> list[tuple[str, str, Message]]:
        """Return (anchor id, label, message) for every error, in the order of the form."""
        summary, named = [], set()
        for node in walk(([fields.choice] if fields.choice else []) + list(fields)):
            error = self.errors.get(node.name)
            if error is not None and node.name not in named:
                named.add(node.name)
                prefix = "field" if isinstance(node, Field) else "node"
                summary.append((f"{prefix}-{node.id}", node.label, error))
        for name, error in self.errors.items():
            if name not in named:
                summary.append((ROOT_ID, "", error))
        return summary


def _target(name: str) -> str:
    """Return the CSS selector of the element that holds the node named ``name``."""
    return f"#{ROOT_ID}" if name == "" else f"#node-{dom_id(name)}"


def _widget(kind: str, schema: Schema) -> tuple[str, widgets.Widget | None]:
    """Return the widget of a field, and the registered widget if it is not built in."""
    wanted = schema.get("x-widget")
    if isinstance(wanted, str) and wanted not in widgets.BUILT_IN and widgets.get(wanted):
        return wanted, widgets.get(wanted)
    if kind == "enum":
        return ("radio" if wanted == "radio" else "select"), None
    if kind in ("checks", "boolean"):
        return ("checkboxes" if kind == "checks" else "checkbox"), None
    if kind in ("integer", "number"):
        return "number", None
    if wanted in TEXT_WIDGETS:
        return str(wanted), None
    if schema.get("format") in FORMAT_WIDGETS:
        return FORMAT_WIDGETS[schema["format"]], None
    max_length = schema.get("maxLength")
    if isinstance(max_length, int) and max_length > LONG_TEXT:
        return "textarea", None
    return "text", None


def _limits(kind: str, schema: Schema) -> dict[str, Any]:
    """Return the minimum, maximum, step and max_length attributes of a field."""
    if kind in ("integer", "number"):
        step = schema.get("multipleOf") or (1 if kind == "integer" else None)
        return {"minimum": number_text(_number(schema.get("minimum"))),
                "maximum": number_text(_number(schema.get("maximum"))),
                "step": number_text(_number(step)) or "any"}
    if kind == "string":
        max_length = schema.get("maxLength")
        return {"max_length": max_length if isinstance(max_length, int) else None}
    return {}


def options(schema: Mapping[str, Any], layout: Mapping[str, Any],
            locale: str) -> list[tuple[str, str]]:
    """Return (value, label) pairs: layout option labels, else oneOf titles, else the value."""
    branches = schema.get("oneOf", schema.get("anyOf", []))
    titles = {
        option_text(b["const"]): b["title"]
        for b in (branches if isinstance(branches, list) else [])
        if isinstance(b, dict) and "const" in b and isinstance(b.get("title"), str)
    }
    labels = layout.get("options", {})
    labels = labels if isinstance(labels, dict) else {}
    result = []
    for value in option_values(schema):
        text = option_text(value)
        label = localize(labels[text], locale) if text in labels else titles.get(text, text)
        result.append((text, label))
    return result


def _int(value: Any, fallback: int = 0) -> int:
    """Return a non-negative integer keyword, ``fallback`` if it is not one."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 \
        else fallback


def _number(value: Any) -> Any:
    """Return a number keyword, None if it is not a number."""
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def build_fields(spec: FormSpec, locale: str, values: Mapping[str, Any],
                 errors: Mapping[str, Message], timezone: str | None = None) -> Fields:
    """Return the view-models of the form's fields, filled with ``values`` and ``errors``."""
    return Renderer(spec, locale, values or {}, errors, timezone).build()

