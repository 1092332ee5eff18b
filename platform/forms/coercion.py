"""Turn a submitted form (flat names, see ``andon.forms.names``) into typed JSON.

The walk follows the schema, not the submitted names: unknown names are
ignored and read-only fields are never taken from the form. A value that
cannot be read gets a Message under its input name; the rest of the data is
still returned so the page can show everything that was typed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from andon import clock
from andon.forms import widgets
from andon.forms.names import (
    CHOICE,
    ROWS,
    TIMEZONE,
    TRUE_TEXT,
    child,
    flatten,
    row_count,
    under,
)
from andon.forms.schema import FormSpec, option_values
from andon.forms.shapes import MAX_DEPTH, Schema, shapes_for
from andon.i18n import N_, Message

TRUE_STRINGS = frozenset({TRUE_TEXT, "true", "1", "yes"})
ERRORS = {
    "number": N_("Enter a number."),
    "integer": N_("Enter a whole number."),
    "date-time": N_("Enter a date and a time."),
    "time": N_("Enter a time as HH:MM."),
    "uri": N_("Enter a full web address, such as https://example.com."),
}
GENERIC = N_("This value is not valid.")
URI_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:\S+$")


class Reader:
    """Read one submitted form against one schema."""

    def __init__(self, spec: FormSpec, form: Mapping[str, Any], timezone: str | None) -> None:
        self.spec = spec
        self.shapes = shapes_for(spec)
        self.flat = flatten(form)
        self.zone = zone_of(self.flat.get(TIMEZONE) or timezone)
        self.errors: dict[str, Message] = {}

    def read_object(self, schema: Schema, name: str, depth: int) -> dict[str, Any]:
        """Return the typed value of an object, re-reading when a condition adds fields."""
        value: dict[str, Any] = {}
        seen: set[str] = set()
        self._guess_choice(schema, name)
        for _ in range(3):
            shape = self.shapes.object_shape(schema, value, self.flat.get(child(name, CHOICE)))
            fresh = [p for p in shape.properties if p not in seen]
            if not fresh:
                break
            for prop in fresh:
                seen.add(prop)
                self._read_property(value, shape.properties[prop], child(name, prop),
                                    prop, prop in shape.required, depth)
        return value

    def _guess_choice(self, schema: Schema, name: str) -> None:
        """Note which alternative stored data (which has no chooser value) was made with."""
        alternatives = self.shapes.alternatives(schema)
        if not alternatives or child(name, CHOICE) in self.flat:
            return
        scores = [sum(self._score(name, key, prop) for key, prop in
                      (branch.get("properties") or {}).items()) for branch in alternatives]
        if max(scores) > 0:
            self.flat[child(name, CHOICE)] = str(scores.index(max(scores)))

    def _score(self, name: str, key: str, prop: Any) -> int:
        """Return how strongly the form's values point at a branch property: 10 for its const."""
        full = child(name, key)
        if isinstance(prop, dict) and "const" in prop:
            return 10 if self.flat.get(full) == option_text(prop["const"]) else 0
        return 1 if full in self.flat or under(self.flat, full) else 0

    def _read_property(self, value: dict[str, Any], prop: Schema, name: str, key: str,
                       required: bool, depth: int) -> None:
        """Read one property into ``value`` unless it is read-only or absent."""
        if prop.get("readOnly") or depth > MAX_DEPTH:
            return
        found, item = self.read(prop, name, required, depth + 1)
        if found:
            value[key] = item

    def read(self, schema: Schema, name: str, required: bool, depth: int) -> tuple[bool, Any]:
        """Return (present, value) for the input(s) named ``name`` of ``schema``."""
        kind = self.shapes.kind(schema)
        if kind == "object":
            present = required or bool(under(self.flat, name))
            return present, self.read_object(schema, name, depth) if present else None
        if kind == "array":
            return self._read_array(schema, name, depth)
        if kind == "checks":
            return self._read_checks(schema, name)
        raw = self.flat.get(name)
        if kind == "boolean":
            return True, raw is not None and raw.strip().lower() in TRUE_STRINGS
        if raw is None or not raw.strip():
            return False, None
        try:
            return True, self.scalar(raw, kind, schema)
        except ValueError as error:
            said = error.args[0] if error.args else None  # a widget may say what is wrong
            self.errors[name] = said if isinstance(said, Message) else Message(
                ERRORS.get(kind) or ERRORS.get(str(schema.get("format")), GENERIC))
            return False, None

    def _read_array(self, schema: Schema, name: str, depth: int) -> tuple[bool, Any]:
        """Return the rows of an array; an empty row of scalars reads as null."""
        count = row_count(self.flat, name)
        if count is None:
            return False, None
        rows = []
        for index in range(count):
            item = self.shapes.item_schema(schema, index)
            found, value = self.read(item, child(name, index), True, depth + 1)
            rows.append(value if found else ("" if self.shapes.kind(item) == "string" else None))
        return True, rows

    def _read_checks(self, schema: Schema, name: str) -> tuple[bool, Any]:
        """Return the ticked options of a checkbox group in the order they are listed."""
        ticked = {self.flat[key] for key in under(self.flat, name) if key != child(name, ROWS)}
        values = option_values(self.shapes.resolve(schema.get("items")))
        present = bool(under(self.flat, name))
        return present, [v for v in values if option_text(v) in ticked]

    def scalar(self, raw: str, kind: str, schema: Schema) -> Any:
        """Return one non-empty submitted string as a typed value; raise ValueError if not."""
        custom = widgets.coercer(schema)
        if custom is not None:
            return custom(raw, schema)
        if kind == "number":
            return parse_number(raw)
        if kind == "integer":
            number = parse_number(raw)
            if isinstance(number, float):
                raise ValueError(raw)
            return number
        if kind == "enum":
            by_text = {option_text(v): v for v in option_values(schema)}
            return by_text.get(raw.strip(), raw)  # an unknown value fails validation as enum
        return self._formatted(raw.replace("\r\n", "\n").strip(), schema.get("format"))

    def _formatted(self, text: str, fmt: Any) -> str:
        """Return text in its declared format: local date-times gain the user's offset."""
        if fmt == "date-time":
            return local_datetime(text, self.zone).isoformat()
        if fmt == "time":
            return local_time(text, self.zone)
        if fmt in ("uri", "url") and not URI_RE.match(text):
            raise ValueError(text)
        return text


def coerce(spec: FormSpec, form: Mapping[str, Any],
           timezone: str | None = None) -> tuple[dict[str, Any], dict[str, Message]]:
    """Return submitted strings as typed JSON values, and a Message per value that is not."""
    reader = Reader(spec, form, timezone)
    return reader.read_object(reader.shapes.resolve(reader.shapes.root), "", 0), reader.errors


def zone_of(name: str | None) -> ZoneInfo:
    """Return the named time zone, UTC when the name is missing or unknown."""
    try:
        return ZoneInfo(name or "UTC")
    except (ValueError, KeyError, OSError):
        return ZoneInfo("UTC")


def local_datetime(text: str, zone: ZoneInfo) -> datetime:
    """Return a typed date-time; one without an offset is in ``zone``."""
    moment = datetime.fromisoformat(text.replace(" ", "T").replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def local_time(text: str, zone: ZoneInfo) -> str:
    """Return HH:MM[:SS] as an RFC 3339 time with the offset ``zone`` has today."""
    if re.search(r"(Z|[+-]\d\d:\d\d)$", text):
        time.fromisoformat(text.replace("Z", "+00:00"))
        return text
    moment = datetime.combine(clock.now().astimezone(zone).date(), time.fromisoformat(text), zone)
    return moment.isoformat(timespec="seconds")[11:]


def shown_datetime(text: str, zone: ZoneInfo) -> str:
    """Return a stored date-time as a datetime-local input holds it, in ``zone``."""
    try:
        moment = local_datetime(text, zone)
    except ValueError:
        return text
    return moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M")


def shown_time(text: str) -> str:
    """Return a stored RFC 3339 time as a time input holds it (HH:MM)."""
    match = re.match(r"^(\d\d:\d\d)(:00)?(\.0+)?(Z|[+-]\d\d:\d\d)?$", text)
    return match.group(1) if match else text


def option_text(value: Any) -> str:
    """Return the form value that stands for an enum value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return number_text(value) or ""
    return "" if value is None else str(value)


def number_text(value: Any) -> str | None:
    """Return a number as text without a trailing '.0'; None stays None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def parse_number(raw: str) -> int | float:
    """Return ``raw`` as an int if it is whole, else as a finite float; raise ValueError if not."""
    text = raw.strip()
    try:
        return int(text)
    except ValueError:
        number = float(text)
    if not math.isfinite(number):
        raise ValueError(raw)
    return int(number) if number.is_integer() and "e" not in text.lower() else number

