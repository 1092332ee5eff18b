"""Validate form data against its JSON Schema and say what is wrong, per field.

Validators are compiled once per distinct schema and cached by a hash of the
schema's canonical JSON. Every error becomes a translatable ``Message`` keyed
by the top-level field it concerns; errors about the whole object are keyed
by ``FORM_ERROR``. User input never raises.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from andon.forms.fields import coerce, number_text
from andon.forms.schema import FormSpec
from andon.i18n import N_, Message

FORM_ERROR = "__form__"
GENERIC = N_("This value is not valid.")
CHOICE = N_("Choose one of the listed options.")

TYPE_MESSAGES = {
    "number": N_("Enter a number."),
    "integer": N_("Enter a whole number."),
    "string": N_("Enter text."),
    "boolean": N_("Choose yes or no."),
}
LIMIT_MESSAGES = {
    "minimum": N_("Enter a value greater than or equal to %(limit)s."),
    "maximum": N_("Enter a value less than or equal to %(limit)s."),
    "exclusiveMinimum": N_("Enter a value greater than %(limit)s."),
    "exclusiveMaximum": N_("Enter a value less than %(limit)s."),
    "multipleOf": N_("Enter a multiple of %(limit)s."),
    "minLength": N_("Enter at least %(limit)s characters (you entered %(length)s)."),
    "maxLength": N_("Enter at most %(limit)s characters (you entered %(length)s)."),
}
FORMAT_MESSAGES = {
    "date": N_("Enter a date as YYYY-MM-DD."),
    "email": N_("Enter an email address."),
}


def schema_hash(schema: Mapping[str, Any]) -> str:
    """Return a stable hash of a schema's canonical JSON."""
    text = json.dumps(schema, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def validator_for(schema: Mapping[str, Any]) -> Draft202012Validator:
    """Return the compiled validator of ``schema``, the same object for an equal schema."""
    canonical = json.dumps(schema, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return _compiled(schema_hash(schema), canonical)


@lru_cache(maxsize=256)
def _compiled(digest: str, canonical: str) -> Draft202012Validator:
    """Compile the schema whose canonical JSON is ``canonical`` (``digest`` is the cache key)."""
    return Draft202012Validator(
        json.loads(canonical), format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def validate(spec: FormSpec, data: Mapping[str, Any]) -> dict[str, Message]:
    """Return one Message per field whose value breaks the schema (empty if valid)."""
    errors: dict[str, Message] = {}
    for error in validator_for(spec.schema).iter_errors(dict(data)):
        for name, message in _describe(error):
            errors.setdefault(name, message)
    return errors


def validate_submission(
    spec: FormSpec, form: Mapping[str, str]
) -> tuple[dict[str, Any], dict[str, Message]]:
    """Return the typed data of a submission and its errors; coercion errors win per field."""
    data, coerce_errors = coerce(spec, form)
    errors = validate(spec, data)
    errors.update(coerce_errors)
    return data, errors


def _describe(error: ValidationError) -> list[tuple[str, Message]]:
    """Return (field name, Message) pairs for one validation error."""
    if error.validator in ("required", "dependentRequired") and not error.absolute_path:
        return [(name, Message(N_("This field is required."))) for name in _missing(error)]
    path = list(error.absolute_path)
    name = str(path[0]) if path else FORM_ERROR
    return [(name, message_for(error))]


def _missing(error: ValidationError) -> list[str]:
    """Return the names a required or dependentRequired error finds missing."""
    instance = error.instance if isinstance(error.instance, dict) else {}
    wanted: Any = error.validator_value
    if error.validator == "dependentRequired":
        wanted = [n for present, needs in wanted.items() if present in instance for n in needs]
    missing = [str(n) for n in wanted if n not in instance]
    return missing or [FORM_ERROR]


def message_for(error: ValidationError) -> Message:
    """Return the translatable Message for one error by its JSON Schema keyword."""
    keyword = str(error.validator)
    builder = _BUILDERS.get(keyword)
    return builder(error) if builder else Message(GENERIC)


def _type_message(error: ValidationError) -> Message:
    """Return the message for a value of the wrong type."""
    wanted = error.validator_value
    if isinstance(wanted, list):
        wanted = next((t for t in wanted if t != "null"), None)
    return Message(TYPE_MESSAGES.get(str(wanted), GENERIC))


def _limit_message(error: ValidationError) -> Message:
    """Return the message for a number or length limit, with its limit and the length."""
    params: dict[str, Any] = {"limit": number_text(error.validator_value)}
    if error.validator in ("minLength", "maxLength"):
        params["length"] = len(error.instance)
    return Message(LIMIT_MESSAGES[str(error.validator)], params)


def _format_message(error: ValidationError) -> Message:
    """Return the message for a value not in its declared format."""
    fmt = str(error.validator_value)
    if fmt in FORMAT_MESSAGES:
        return Message(FORMAT_MESSAGES[fmt])
    return Message(N_("Enter a value in the %(format)s format."), {"format": fmt})


def _choice_message(error: ValidationError) -> Message:
    """Return the message for a value outside an enum, const or oneOf of consts."""
    branches = error.validator_value
    if error.validator in ("oneOf", "anyOf") and not (
        isinstance(branches, list) and all(isinstance(b, dict) and "const" in b for b in branches)
    ):
        return Message(GENERIC)
    return Message(CHOICE)


_BUILDERS: dict[str, Callable[[ValidationError], Message]] = {
    "type": _type_message,
    "format": _format_message,
    "pattern": lambda _error: Message(N_("Enter a value in the expected format.")),
    **{keyword: _limit_message for keyword in LIMIT_MESSAGES},
    **{keyword: _choice_message for keyword in ("enum", "const", "oneOf", "anyOf")},
}
