"""Check a form definition file before it becomes a published version.

A definition is ``{"key", "title", "schema", "layout"}``: a JSON Schema (draft
2020-12, type object) for the data, and a layout with per-locale labels,
widgets and field order. ``check_definition`` collects every problem as a
``(json_path, message)`` pair and raises one ``InvalidDefinition``.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, NoReturn

from jsonschema import Draft202012Validator

from andon.errors import InvalidDefinition
from andon.forms import widget_checks, widgets, widgets_files
from andon.forms.patterns import backtracking_problem
from andon.i18n import N_, localize

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
MAX_DEPTH = 24
MAX_NODES = 5000
MAX_PATTERN_LENGTH = 500
KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
# Keywords whose values are data, not subschemas: never look for $ref inside.
DATA_KEYWORDS = frozenset({"enum", "const", "default", "examples"})

Problem = tuple[str, str]


@dataclass(frozen=True)
class FormSpec:
    """A checked form definition."""

    key: str
    title: dict[str, str]
    schema: dict[str, Any]
    layout: dict[str, Any]
    orders: dict[str, list[str]] = field(default_factory=dict)

    @property
    def properties(self) -> dict[str, dict[str, Any]]:
        """Return the top-level property schemas by name."""
        return dict(self.schema.get("properties", {}))

    @property
    def required(self) -> frozenset[str]:
        """Return the names of the required top-level properties."""
        return frozenset(self.schema.get("required", []))

    def order(self) -> list[str]:
        """Return property names in layout order, unlisted ones after in schema order."""
        names = in_order(self.properties, self.orders)
        listed = [n for n in self.layout.get("order", []) if n in names]
        return listed + [n for n in names if n not in listed]

    def field_layout(self, name: str) -> dict[str, Any]:
        """Return the layout entry of one field (empty if none)."""
        return dict(self.layout.get("fields", {}).get(name, {}))

    def label(self, name: str, locale: str) -> str:
        """Return the label of a field in ``locale``, falling back to its title or name."""
        text = self.field_layout(name).get("label")
        if text:
            return localize(text, locale)
        prop = self.properties.get(name)
        return str((prop.get("title") if isinstance(prop, dict) else None) or name)

    def title_in(self, locale: str) -> str:
        """Return the form title in ``locale``."""
        return localize(self.title, locale) or self.key


def check_definition(data: dict[str, Any], filename: str) -> FormSpec:
    """Return the definition as a FormSpec, or raise InvalidDefinition listing every problem."""
    if not isinstance(data, dict):
        _fail(filename, [("$", "The definition must be a JSON object.")])
    problems = _check_envelope(data)
    schema, layout = data.get("schema"), data.get("layout", {})
    if isinstance(schema, dict):
        schema_problems = _check_schema(schema)
        if not schema_problems and isinstance(layout, dict):
            schema_problems += _check_layout(layout, schema)
        problems += schema_problems
    if problems or not isinstance(schema, dict):
        _fail(filename, problems)
    title = data["title"]
    titles = {"en": title} if isinstance(title, str) else dict(title)
    return FormSpec(data["key"], titles, schema, dict(layout), property_orders(schema))


def _fail(filename: str, problems: list[Problem]) -> NoReturn:
    """Raise InvalidDefinition for ``filename`` with ``problems``."""
    raise InvalidDefinition(
        N_("The form definition %(file)s is not valid."), problems=problems, file=filename
    )


def _check_envelope(data: dict[str, Any]) -> list[Problem]:
    """Return problems with key, title and the presence of schema and layout."""
    problems: list[Problem] = []
    key = data.get("key")
    if not isinstance(key, str) or not KEY_RE.match(key):
        problems.append(("$.key", "The key must be lower-case letters, digits and '_'."))
    problems += _check_text(data.get("title"), "$.title", required=True)
    if not isinstance(data.get("schema"), dict):
        problems.append(("$.schema", "The schema must be a JSON object."))
    if not isinstance(data.get("layout", {}), dict):
        problems.append(("$.layout", "The layout must be a JSON object."))
    unknown = sorted(set(data) - {"key", "title", "schema", "layout"})
    problems += [(f"$.{name}", "Unknown top-level entry.") for name in unknown]
    return problems


def _check_text(text: Any, path: str, required: bool = False) -> list[Problem]:
    """Return problems with a localized text: a string or {locale: string}."""
    if text is None and not required:
        return []
    if isinstance(text, str) and text:
        return []
    if isinstance(text, dict) and text and all(isinstance(v, str) for v in text.values()):
        return []
    return [(path, "Give a text, or an object of texts by locale such as {\"en\": ...}.")]


def _check_schema(schema: dict[str, Any]) -> list[Problem]:
    """Return problems with the JSON Schema itself."""
    shape = _check_shape(schema)
    if shape:
        return shape  # too deep or too big: do not walk it any further
    problems = _metaschema_problems(schema)
    if "$schema" in schema and schema["$schema"] != DRAFT_2020_12:
        problems.append(("$.schema.$schema", f"Only {DRAFT_2020_12} is supported."))
    if schema.get("type") != "object":
        problems.append(("$.schema.type", "The schema must have \"type\": \"object\"."))
    problems += _ref_problems(schema)
    problems += _pattern_problems(schema)
    return problems


def _check_shape(schema: dict[str, Any]) -> list[Problem]:
    """Return a problem if the schema nests too deeply or has too many nodes."""
    for count, (path, depth) in enumerate(_walk_depths(schema, "$.schema", 1), start=1):
        if depth > MAX_DEPTH:
            return [(path, f"The schema nests deeper than {MAX_DEPTH} levels.")]
        if count > MAX_NODES:
            return [("$.schema", f"The schema has more than {MAX_NODES} entries.")]
    return []


def _walk_depths(node: Any, path: str, depth: int) -> Iterator[tuple[str, int]]:
    """Yield the path and depth of ``node`` and every container below it."""
    yield path, depth
    if depth > MAX_DEPTH:
        return
    for key, child in _children(node):
        if isinstance(child, (dict, list)):
            yield from _walk_depths(child, _join(path, key), depth + 1)


def _children(node: Any) -> Iterable[tuple[str | int, Any]]:
    """Return the (key, value) pairs of a dict or the (index, item) pairs of a list."""
    if isinstance(node, dict):
        return node.items()
    if isinstance(node, list):
        return enumerate(node)
    return ()


def _join(path: str, key: str | int) -> str:
    """Return ``path`` extended by one key in JSON-path notation."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    if re.fullmatch(r"[A-Za-z_$][A-Za-z0-9_$]*", key):
        return f"{path}.{key}"
    return f"{path}[{json.dumps(key, ensure_ascii=False)}]"


def _metaschema_problems(schema: dict[str, Any]) -> list[Problem]:
    """Return every violation of the draft 2020-12 metaschema (regexes are checked apart)."""
    errors = sorted(_META.iter_errors(schema), key=lambda e: list(map(str, e.absolute_path)))
    return [(functools.reduce(_join, e.absolute_path, "$.schema"), e.message) for e in errors]


_META = Draft202012Validator(Draft202012Validator.META_SCHEMA)


def _walk_schema(node: Any, path: str) -> Iterator[tuple[str, str, Any]]:
    """Yield (path, keyword, value) for every dict entry, skipping data keywords."""
    for key, child in _children(node):
        child_path = _join(path, key)
        if isinstance(key, str):
            yield child_path, key, child
            if key in DATA_KEYWORDS:
                continue
        yield from _walk_schema(child, child_path)


def _ref_problems(schema: dict[str, Any]) -> list[Problem]:
    """Return a problem for every $ref or $dynamicRef that is not a local '#...' ref."""
    return [
        (path, "Only local references starting with '#' are allowed.")
        for path, key, value in _walk_schema(schema, "$.schema")
        if key in ("$ref", "$dynamicRef") and isinstance(value, str)
        and not value.startswith("#")
    ]


def _pattern_problems(schema: dict[str, Any]) -> list[Problem]:
    """Return problems with every regular expression in pattern and patternProperties."""
    problems: list[Problem] = []
    for path, key, value in _walk_schema(schema, "$.schema"):
        if key == "pattern" and isinstance(value, str):
            problems += _regex_problems(value, path)
        elif key == "patternProperties" and isinstance(value, dict):
            for regex in value:
                problems += _regex_problems(regex, _join(path, regex))
    return problems


def _regex_problems(regex: str, path: str) -> list[Problem]:
    """Return a problem if ``regex`` is over-long or does not compile."""
    if len(regex) > MAX_PATTERN_LENGTH:
        return [(path, f"The pattern is longer than {MAX_PATTERN_LENGTH} characters.")]
    try:
        re.compile(regex)
    except re.error as exc:
        return [(path, f"The pattern is not a valid regular expression: {exc}.")]
    risky = backtracking_problem(regex)
    return [(path, risky)] if risky else []


def _check_layout(layout: dict[str, Any], schema: dict[str, Any]) -> list[Problem]:
    """Return problems with the layout: unknown names, bad widgets, bad texts."""
    names = set(schema.get("properties", {}))
    problems: list[Problem] = widgets_files.nested_problems(schema, "$.schema")
    order = layout.get("order", [])
    if not isinstance(order, list):
        return [("$.layout.order", "The order must be a list of field names.")]
    for index, name in enumerate(order):
        if name not in names:
            problems.append((f"$.layout.order[{index}]", f"No field {name!r} in the schema."))
    fields = layout.get("fields", {})
    if not isinstance(fields, dict):
        return problems + [("$.layout.fields", "The fields must be an object by field name.")]
    for name, entry in fields.items():
        path = _join("$.layout.fields", name)
        if name not in names:
            problems.append((path, f"No field {name!r} in the schema."))
        elif not isinstance(entry, dict):
            problems.append((path, "The field layout must be an object."))
        else:
            problems += _check_field_layout(entry, path, schema["properties"][name])
            problems += widget_checks.problems(entry, path, name, schema["properties"][name],
                                               names)
    return problems


def _check_field_layout(entry: dict[str, Any], path: str, prop: Any) -> list[Problem]:
    """Return problems with one field's layout entry."""
    problems: list[Problem] = []
    for text_key in ("label", "placeholder", "help"):
        problems += _check_text(entry.get(text_key), _join(path, text_key))
    if entry.get("width", "full") not in ("full", "half", "third"):
        problems.append((_join(path, "width"), "The width is \"full\", \"half\" or \"third\"."))
    widget = entry.get("widget")
    if widget is not None and widget not in widgets.names():
        known = ", ".join(sorted(widgets.names()))
        problems.append((_join(path, "widget"), f"Unknown widget {widget!r}; use one of {known}."))
    options = entry.get("options", {})
    if not isinstance(options, dict):
        return problems + [(_join(path, "options"), "The options must be an object by value.")]
    choices = prop.get("items") if isinstance(prop, dict) and prop.get("type") == "array" \
        else prop  # a checkbox group labels the values of its items
    allowed = {str(v) for v in option_values(choices)}
    for value, text in options.items():
        option_path = _join(_join(path, "options"), value)
        if value not in allowed:
            problems.append((option_path, f"{value!r} is not one of the field's values."))
        problems += _check_text(text, option_path, required=True)
    return problems


def property_orders(schema: dict[str, Any]) -> dict[str, list[str]]:
    """Return the written order of every object's properties, by their sorted names.

    Stored definitions are compiled with sorted keys, so the order an administrator
    wrote the fields in is kept here and ``in_order`` restores it.
    """
    return {_order_key(value): [str(name) for name in value]
            for _, key, value in _walk_schema(schema, "$.schema")
            if key == "properties" and isinstance(value, dict) and value}


def in_order(props: dict[str, Any], orders: dict[str, list[str]]) -> list[str]:
    """Return the names of ``props`` in the order they were written, if it is known."""
    written = orders.get(_order_key(props))
    return [n for n in written if n in props] if written else list(props)


def _order_key(props: dict[str, Any]) -> str:
    """Return the key under which the order of a set of property names is kept."""
    return "\x1f".join(sorted(map(str, props)))


def option_values(prop: Any) -> list[Any]:
    """Return the allowed values of an enum-like property (enum, or oneOf/anyOf of const)."""
    if not isinstance(prop, dict):
        return []
    if isinstance(prop.get("enum"), list):
        return list(prop["enum"])
    for keyword in ("oneOf", "anyOf"):
        branches = prop.get(keyword)
        if isinstance(branches, list) and branches and all(
            isinstance(b, dict) and "const" in b for b in branches
        ):
            return [b["const"] for b in branches]
    return []
