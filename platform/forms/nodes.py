"""View-models of a form as ``_fields.html`` draws it: fields, sections and tables.

``node`` tells the template which kind it has. Every node carries its input
``name`` (see ``andon.forms.names``), an HTML ``id`` fragment, its label in the
reader's language and its error, if any. ``refresh`` names the node that is
drawn again, through htmx, when the node's value changes: the field itself
(inline validation) or the nearest section whose fields depend on it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from andon.i18n import N_, Message

ROW_TEXTS = {
    "remove": N_("Remove row %(row)s"),
    "up": N_("Move row %(row)s up"),
    "down": N_("Move row %(row)s down"),
    "row": N_("Row %(row)s"),
}
ADD_ROW = Message(N_("Add a row"))
ROW_ACTIONS = Message(N_("Row actions"))


@dataclass
class Field:
    """One input (or group of radios or checkboxes) as the template renders it."""

    name: str
    label: str
    widget: str
    required: bool = False
    value: str = ""
    error: Message | None = None
    options: list[tuple[str, str]] = field(default_factory=list)
    help: str = ""
    placeholder: str = ""
    minimum: str | None = None
    maximum: str | None = None
    step: str | None = None
    max_length: int | None = None
    read_only: bool = False
    id: str = ""
    input_type: str = "text"
    chosen: list[str] = field(default_factory=list)
    template: str | None = None
    refresh: str | None = None
    target: str = ""
    compact: bool = False
    node: str = "field"
    #: the share of the form's width: "" (all of it), "half" or "third"
    width: str = ""
    #: what a registered widget's template needs beyond this (e.g. a picker's option groups)
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Default the HTML id to the name."""
        self.id = self.id or self.name


@dataclass
class Section:
    """An object: a fieldset with a legend, its fields, and a chooser for alternatives."""

    name: str
    label: str
    id: str
    children: list[Any] = field(default_factory=list)
    help: str = ""
    error: Message | None = None
    required: bool = False
    choice: Field | None = None
    reactive: bool = False
    node: str = "section"
    width: str = ""


@dataclass
class Row:
    """One row of an array: its cells and where it stands."""

    name: str
    index: int
    cells: list[Any]
    first: bool = False
    last: bool = False

    def text(self, action: str) -> Message:
        """Return the accessible name of a row button (remove, up, down) or of the row."""
        return Message(ROW_TEXTS[action], {"row": self.index + 1})


@dataclass
class Table:
    """An array: rows the user adds, removes and reorders, drawn as a table or a list."""

    name: str
    label: str
    id: str
    rows: list[Row] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    help: str = ""
    error: Message | None = None
    required: bool = False
    can_add: bool = True
    can_remove: bool = True
    read_only: bool = False
    tabular: bool = True
    node: str = "table"
    width: str = ""
    add_text: Message = ADD_ROW
    actions_text: Message = ROW_ACTIONS


Node = Field | Section | Table


def walk(nodes: list[Any]) -> Iterator[Any]:
    """Yield every node of a tree, parents before their children."""
    for node in nodes:
        yield node
        if isinstance(node, Section):
            if node.choice is not None:
                yield node.choice
            yield from walk(node.children)
        elif isinstance(node, Table):
            for row in node.rows:
                yield from walk(row.cells)


class Fields(list[Any]):
    """The top-level nodes of a form, with what the whole form needs to be drawn."""

    node_url: str | None = None
    reactive: bool = False
    choice: Field | None = None
    timezone: str = "UTC"
    #: the form has file fields, so it posts multipart/form-data
    multipart: bool = False
    summary: list[tuple[str, str, Message]]
    #: the typed values the form was drawn with (what computed fields and conditions read)
    data: dict[str, Any]

    def __init__(self, nodes: list[Any], summary: list[tuple[str, str, Message]]) -> None:
        super().__init__(nodes)
        self.summary = summary
        self.data = {}

    def find(self, name: str) -> Any:
        """Return the node with input name ``name``, or None."""
        nodes = ([self.choice] if self.choice else []) + list(self)
        return next((node for node in walk(nodes) if node.name == name), None)
