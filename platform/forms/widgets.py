"""The widgets a field can be drawn with: built-in ones and the ones other parts register.

A field's widget comes from its layout entry (``"widget": "radio"``) or, for a
nested field, from the schema keyword ``x-widget``; otherwise it follows from
the value's type and format. Built-in widgets are drawn by ``_fields.html``.
Another part adds one with a single call, e.g. a taxonomy picker::

    widgets.register("taxonomy", widgets.Widget(
        template="_taxonomy_picker.html",          # renders `field` (a forms.nodes.Field)
        options=taxonomy_options,                  # (schema, layout, locale) -> [(value, label)]
        coerce=taxonomy_code,                      # (text, schema) -> value, ValueError if bad
        show=None,                                 # (value, schema, layout, locale) -> text
    ))

Registered names are accepted in layouts (``andon.forms.schema``) and in ``x-widget``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from andon.forms import widgets_files, widgets_numbers, widgets_records

Options = Callable[[Mapping[str, Any], Mapping[str, Any], str], list[tuple[str, str]]]
Coerce = Callable[[str, Mapping[str, Any]], Any]
#: (stored value, schema, layout, locale) -> the text readers see
Show = Callable[[Any, Mapping[str, Any], Mapping[str, Any], str], str]


@dataclass(frozen=True)
class Widget:
    """How one widget draws a field and reads it back (None: the built-in behaviour)."""

    template: str | None = None
    options: Options | None = None
    coerce: Coerce | None = None
    input_type: str | None = None
    show: Show | None = None
    #: draws a whole array as one field (the file widget's many files), not as a table of rows
    whole: bool = False


BUILT_IN = {
    "text": Widget(input_type="text"),
    "textarea": Widget(),
    "select": Widget(),
    "radio": Widget(),
    "checkbox": Widget(),
    "checkboxes": Widget(),
    "number": Widget(input_type="text"),
    "date": Widget(input_type="date"),
    "datetime": Widget(input_type="datetime-local"),
    "time": Widget(input_type="time"),
    "email": Widget(input_type="email"),
    "url": Widget(input_type="url"),
    "tel": Widget(input_type="tel"),
}
_registry: dict[str, Widget] = {
    **BUILT_IN,
    # its options come from the database: andon.forms.taxonomy_fields.pickers fills them in
    "taxonomy": Widget(template="_taxonomy_field.html"),
    "money": Widget(template="_number_field.html", coerce=widgets_numbers.read_money,
                    show=widgets_numbers.show_money),
    "percent": Widget(template="_number_field.html", coerce=widgets_numbers.read_percent,
                      show=widgets_numbers.show_percent),
    # their options come from the database: andon.forms.widgets_people.pickers fills them in
    "user": Widget(template="_people_field.html"),
    "group": Widget(template="_people_field.html"),
    "orgunit": Widget(template="_people_field.html"),
    # a search box; andon.forms.record_refs.pickers fills in the chosen record's title
    widgets_records.WIDGET: Widget(template="_record_field.html", coerce=widgets_records.read_id,
                                   show=widgets_records.show_id),
    # chosen files are stored by andon.forms.file_fields; their names come from the database
    "file": Widget(template="_file_field.html", coerce=widgets_files.read_id, whole=True),
}


def register(name: str, widget: Widget) -> None:
    """Add (or replace) a widget that layouts and ``x-widget`` may name."""
    _registry[name] = widget


def names() -> frozenset[str]:
    """Return the names of every widget a layout may ask for."""
    return frozenset(_registry)


def get(name: str) -> Widget | None:
    """Return the widget registered under ``name``."""
    return _registry.get(name)


def shown(value: Any, schema: Mapping[str, Any], layout: Mapping[str, Any],
          locale: str) -> str | None:
    """Return a value as its widget (the layout's or ``x-widget``) shows it, None if plain."""
    wanted = layout.get("widget") or schema.get("x-widget")
    widget = _registry.get(wanted) if isinstance(wanted, str) else None
    return widget.show(value, schema, layout, locale) if widget and widget.show else None


def whole(schema: Mapping[str, Any]) -> bool:
    """Tell whether the widget a schema names in ``x-widget`` draws a whole array as one field."""
    wanted = schema.get("x-widget")
    widget = _registry.get(wanted) if isinstance(wanted, str) else None
    return bool(widget and widget.whole)


def coercer(schema: Mapping[str, Any]) -> Coerce | None:
    """Return the reading function of the widget a schema names in ``x-widget``, if any."""
    wanted = schema.get("x-widget")
    widget = _registry.get(wanted) if isinstance(wanted, str) else None
    return widget.coerce if widget else None
