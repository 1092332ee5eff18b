"""The form builder's property panel: a field's settings as inputs, and posted inputs applied.

``panel_values`` reads a field (``andon.forms.builder`` names it by its path)
as the texts of the panel's inputs; ``update_field`` checks every posted input
first and raises ``InvalidSubmission`` naming the inputs, changing nothing, or
applies them all. ``settings_values`` and ``set_settings`` do the same for the
form's title and record rules.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from andon import expressions
from andon.errors import InvalidSubmission
from andon.forms import patterns
from andon.forms.builder import (
    LOCALES,
    WIDTHS,
    Kind,
    Path,
    drop_required,
    get_entry,
    kind_of,
    layout_entry,
    owner_of,
    prop_at,
    rename_field,
    set_entry,
)
from andon.forms.patterns import backtracking_problem
from andon.forms.schema import KEY_RE, option_values
from andon.i18n import N_, Message


def panel_values(definition: Mapping[str, Any], path: Path) -> dict[str, str]:
    """Return what the property panel shows for a field, as the texts of its inputs."""
    prop, kind = prop_at(definition, path), kind_of(definition, path)
    values = {"name": path[-1],
              "required": "on" if path[-1] in owner_of(definition, path).get("required", [])
              else "",
              "read_only": "on" if prop.get("readOnly") else ""}
    for entry in ("label", "help", "placeholder"):
        text = get_entry(definition, path, entry)
        for locale in LOCALES:
            values[f"{entry}_{_suffix(locale)}"] = text.get(locale, "") \
                if isinstance(text, dict) else (text or "" if locale == "en" else "")
    for keyword, name in (("minLength", "min_length"), ("maxLength", "max_length"),
                          ("minimum", "minimum"), ("maximum", "maximum"),
                          ("pattern", "pattern")):
        values[name] = _text(prop.get(keyword))
    values["default"] = _text(prop.get("default"))
    values["width"] = str(get_entry(definition, path, "width") or "full")
    values["options"] = _options_text(definition, path) \
        if kind.group == "choice" and kind.name != "taxonomy" else ""
    layout = layout_entry(definition, path)
    values["currency"] = str(get_entry(definition, path, "currency") or "")
    values["record_form"] = str(get_entry(definition, path, "form") or "")
    values["max_size_mb"] = _text(layout_value(definition, path, "max_size_mb"))
    values["accept"] = ", ".join(map(str, layout_value(definition, path, "accept") or []))
    values["multiple"] = "on" if layout_value(definition, path, "multiple") else ""
    values["taxonomy"] = str(layout.get("taxonomy", ""))
    values["computed"] = str(layout.get("computed", ""))
    when = layout.get("show_when")
    if isinstance(when, dict):
        equals = when.get("equals")
        values["show_field"] = str(when.get("field", ""))
        values["show_values"] = ", ".join(map(_text, equals if isinstance(equals, list)
                                              else [equals]))
    else:
        values["show_field"] = values["show_values"] = ""
    return values


def layout_value(definition: Mapping[str, Any], path: Path, name: str) -> Any:
    """Return a top-level field's layout entry (None for a nested field)."""
    return layout_entry(definition, path).get(name)


def _suffix(locale: str) -> str:
    """Return the input-name suffix of a locale (``en``, ``zh``)."""
    return "zh" if locale == "zh-CN" else "en"


def _text(value: Any) -> str:
    """Return a schema value as the text an input shows."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _options_text(definition: Mapping[str, Any], path: Path) -> str:
    """Return the options as lines ``value | English | 中文``."""
    prop = prop_at(definition, path)
    values = option_values(prop.get("items") if prop.get("type") == "array" else prop)
    labels = get_entry(definition, path, "options") or {}
    lines = []
    for value in values:
        text = labels.get(_text(value), {}) if isinstance(labels, dict) else {}
        text = text if isinstance(text, dict) else {"en": str(text)}
        lines.append(" | ".join([_text(value), text.get("en", ""), text.get("zh-CN", "")]))
    return "\n".join(lines)


def update_field(definition: dict[str, Any], path: Path, posted: Mapping[str, str],
                 field_names: Callable[[], list[str]] | None = None) -> Path:
    """Apply the property panel's posted values to a field; return its (new) path.

    Every input is checked first; on any problem ``InvalidSubmission`` names the
    inputs and the definition is left as it was.
    """
    kind = kind_of(definition, path)
    errors: dict[str, Message] = {}
    changes: list[Callable[[dict[str, Any], Path], None]] = []
    name = posted.get("name", path[-1]).strip()
    siblings = owner_of(definition, path).get("properties", {})
    if not KEY_RE.match(name):
        errors["name"] = Message(N_("Use lower-case letters, digits and '_' for the field name, "
                                    "starting with a letter."))
    elif name != path[-1] and name in siblings:
        errors["name"] = Message(N_("Another field here is already named %(name)s."),
                                 {"name": name})
    for entry in ("label", "help", "placeholder"):
        text = {locale: posted.get(f"{entry}_{_suffix(locale)}", "").strip()
                for locale in LOCALES}
        text = {locale: value for locale, value in text.items() if value}
        if entry == "label" and not text:
            errors["label_en"] = Message(N_("Give the field a label in at least one language."))
        changes.append(_setter(entry, text))
    changes.append(_flag("readOnly", posted.get("read_only") == "on"))
    width = posted.get("width", "full")
    if width not in WIDTHS:
        errors["width"] = Message(N_("Choose a width from the list."))
    changes.append(_setter("width", None if width == "full" else width))
    required = posted.get("required") == "on"
    changes += _limits(kind, posted, errors)
    changes += _choices(kind, posted, errors)
    changes += _widget_entries(definition, path, kind, posted, errors, field_names)
    changes += _default(definition, path, kind, posted, errors)
    if errors:
        raise InvalidSubmission(errors, dict(posted))
    for change in changes:
        change(definition, path)
    owner = owner_of(definition, path)
    if not required:
        drop_required(owner, path[-1])
    elif path[-1] not in owner.setdefault("required", []):
        owner["required"].append(path[-1])
    return rename_field(definition, path, name) if name != path[-1] else path


def _setter(entry: str, value: Any) -> Callable[[dict[str, Any], Path], None]:
    """Return a change setting a layout-like entry."""
    return lambda definition, path: set_entry(definition, path, entry, value)


def _flag(keyword: str, on: bool) -> Callable[[dict[str, Any], Path], None]:
    """Return a change setting a boolean schema keyword (or removing it)."""
    def change(definition: dict[str, Any], path: Path) -> None:
        prop = prop_at(definition, path)
        if on:
            prop[keyword] = True
        else:
            prop.pop(keyword, None)
    return change


def _keyword(keyword: str, value: Any) -> Callable[[dict[str, Any], Path], None]:
    """Return a change setting a schema keyword (None removes it)."""
    def change(definition: dict[str, Any], path: Path) -> None:
        prop = prop_at(definition, path)
        if value is None:
            prop.pop(keyword, None)
        else:
            prop[keyword] = value
    return change


def _limits(kind: Kind, posted: Mapping[str, str],
            errors: dict[str, Message]) -> list[Callable[[dict[str, Any], Path], None]]:
    """Return the changes of length, range and pattern limits that fit the kind."""
    changes = []
    if kind.name in ("text", "textarea"):
        for keyword, name in (("minLength", "min_length"), ("maxLength", "max_length")):
            number = _whole(posted.get(name, ""), name, errors)
            changes.append(_keyword(keyword, number))
        pattern = posted.get("pattern", "").strip()
        if pattern:
            try:
                re.compile(pattern)
            except re.error as error:
                errors["pattern"] = Message(N_("This is not a valid regular expression: "
                                               "%(error)s."), {"error": str(error)})
            else:
                if backtracking_problem(pattern) == patterns.NESTED:
                    errors["pattern"] = Message(patterns.NESTED)
                elif backtracking_problem(pattern):
                    errors["pattern"] = Message(patterns.OVERLAP)
        changes.append(_keyword("pattern", pattern or None))
    if kind.name in ("number", "integer", "money", "percent"):
        for name in ("minimum", "maximum"):
            changes.append(_keyword(name, _number(posted.get(name, ""), name, errors)))
    return changes


def _whole(text: str, name: str, errors: dict[str, Message]) -> int | None:
    """Return a non-negative whole number typed in an input, None if empty."""
    text = text.strip()
    if not text:
        return None
    if not text.isdigit():
        errors[name] = Message(N_("Enter a whole number of 0 or more."))
        return None
    return int(text)


def _number(text: str, name: str, errors: dict[str, Message]) -> int | float | None:
    """Return a number typed in an input, None if empty."""
    text = text.strip()
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        errors[name] = Message(N_("Enter a number."))
        return None
    if not value.is_finite():
        errors[name] = Message(N_("Enter a number."))
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def _choices(kind: Kind, posted: Mapping[str, str],
             errors: dict[str, Message]) -> list[Callable[[dict[str, Any], Path], None]]:
    """Return the change of a choice field's options from lines ``value | English | 中文``."""
    if kind.group != "choice" or kind.name == "taxonomy":
        return []
    values: list[str] = []
    labels: dict[str, dict[str, str]] = {}
    for number, line in enumerate(posted.get("options", "").splitlines(), start=1):
        if not line.strip():
            continue
        value, *texts = [part.strip() for part in line.split("|")]
        if not value or value in labels:
            errors["options"] = Message(N_("Line %(line)s: each option needs its own value "
                                           "before the first '|'."), {"line": number})
            return []
        values.append(value)
        labels[value] = {locale: text for locale, text in zip(LOCALES, texts, strict=False) if text}
    if not values:
        errors["options"] = Message(N_("Give at least one option, one per line."))
        return []

    def change(definition: dict[str, Any], path: Path) -> None:
        prop = prop_at(definition, path)
        target = prop["items"] if kind.name == "checkboxes" else prop
        for keyword in ("oneOf", "anyOf", "const"):
            target.pop(keyword, None)
        target["type"], target["enum"] = "string", values
        set_entry(definition, path, "options", {v: t for v, t in labels.items() if t})
    return [change]


def _widget_entries(definition: Mapping[str, Any], path: Path, kind: Kind,
                    posted: Mapping[str, str], errors: dict[str, Message],
                    field_names: Callable[[], list[str]] | None
                    ) -> list[Callable[[dict[str, Any], Path], None]]:
    """Return the changes of currency, taxonomy, computed expression and show_when."""
    changes = []
    if kind.name == "money":
        currency = posted.get("currency", "").strip().upper()
        if currency and not re.fullmatch(r"[A-Z]{3}", currency):
            errors["currency"] = Message(N_("A currency is a three-letter code such as CNY."))
        changes.append(_setter("currency", currency or None))
    if kind.name == "record":
        target = posted.get("record_form", "").strip()
        if not target:
            errors["record_form"] = Message(N_("Choose the form whose records this field links."))
        changes.append(_setter("form", target or None))
    if kind.name == "file":
        changes += _file_options(posted, errors)
    if len(path) != 1:
        return changes
    names = field_names() if field_names else [n for n in definition["schema"]["properties"]]
    others = [n for n in names if n != path[0]]
    if kind.name == "taxonomy":
        key = posted.get("taxonomy", "").strip()
        if not key:
            errors["taxonomy"] = Message(N_("Choose the taxonomy the codes come from."))
        changes.append(_setter("taxonomy", key or None))
    if kind.name == "computed":
        expression = posted.get("computed", "").strip()
        try:
            expressions.check(expression, others)
        except expressions.ExpressionError as error:
            errors["computed"] = error.message
        changes.append(_setter("computed", expression or None))
    watched = posted.get("show_field", "").strip()
    if watched and watched not in others:
        errors["show_field"] = Message(N_("Choose another field of this form."))
    wanted = [v.strip() for v in posted.get("show_values", "").split(",") if v.strip()]
    if watched and not wanted:
        errors["show_values"] = Message(N_("Give the value (or values, separated by commas) "
                                           "that shows this field."))
    when = {"field": watched, "equals": wanted if len(wanted) != 1 else wanted[0]} \
        if watched else None
    changes.append(_setter("show_when", when))
    return changes


def _file_options(posted: Mapping[str, str],
                  errors: dict[str, Message]) -> list[Callable[[dict[str, Any], Path], None]]:
    """Return the changes of a file field's size limit, accepted types and multiplicity."""
    size = _number(posted.get("max_size_mb", ""), "max_size_mb", errors)
    if size is not None and size <= 0:
        errors["max_size_mb"] = Message(N_("Enter a number above 0."))
    accept = [part.strip().lower() for part in posted.get("accept", "").split(",")
              if part.strip()]
    if any(not re.fullmatch(r"\.[a-z0-9]{1,10}|[a-z]+/([a-z0-9.+-]+|\*)", a) for a in accept):
        errors["accept"] = Message(N_("List extensions or types separated by commas, "
                                      "e.g. .pdf, .xlsx, image/*."))
    multiple = posted.get("multiple") == "on"

    def change(definition: dict[str, Any], path: Path) -> None:
        prop = prop_at(definition, path)
        if multiple:
            prop.update({"type": "array", "items": {"type": "string"}})
        else:
            prop["type"] = "string"
            prop.pop("items", None)
        for name, value in (("max_size_mb", size), ("accept", accept),
                            ("multiple", True if multiple else None)):
            set_entry(definition, path, name, value)
    return [change]


def _default(definition: Mapping[str, Any], path: Path, kind: Kind, posted: Mapping[str, str],
             errors: dict[str, Message]) -> list[Callable[[dict[str, Any], Path], None]]:
    """Return the change of the default value, read as the field's type."""
    if kind.name in ("section", "table", "checkboxes", "computed", "other", "file"):
        return []
    text = posted.get("default", "").strip()
    if not text:
        return [_keyword("default", None)]
    prop = prop_at(definition, path)
    value: Any = text
    if prop.get("type") in ("number", "integer"):
        value = _number(text, "default", errors)
        if prop.get("type") == "integer" and isinstance(value, float):
            errors["default"] = Message(N_("Enter a whole number."))
    elif prop.get("type") == "boolean":
        value = text.lower() in ("true", "yes", "on", "1", "是")
    return [_keyword("default", value)]


def settings_values(definition: Mapping[str, Any]) -> dict[str, Any]:
    """Return what the form settings panel shows: the title and the record rules."""
    title = definition.get("title")
    title = title if isinstance(title, dict) else {"en": str(title or "")}
    rules = definition.get("layout", {}).get("records", {})
    rules = rules if isinstance(rules, dict) else {}
    return {"title_en": title.get("en", ""), "title_zh": title.get("zh-CN", ""),
            "readers": list(rules.get("readers", [])), "editors": list(rules.get("editors", []))}


def set_settings(definition: dict[str, Any], posted: Mapping[str, str],
                 readers: list[str], editors: list[str], roles: tuple[str, ...]) -> None:
    """Set the title (in one language at least) and who may read and edit the records."""
    titles = {locale: posted.get(f"title_{_suffix(locale)}", "").strip() for locale in LOCALES}
    titles = {locale: text for locale, text in titles.items() if text}
    if not titles:
        raise InvalidSubmission({"title_en": Message(N_(
            "Give the form a title in at least one language."))}, dict(posted))
    definition["title"] = titles
    layout = definition.setdefault("layout", {})
    rules = {name: [role for role in roles if role in chosen]
             for name, chosen in (("readers", readers), ("editors", editors)) if chosen}
    if rules:
        layout["records"] = rules
    else:
        layout.pop("records", None)
