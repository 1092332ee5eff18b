"""Validate form data against its JSON Schema and say what is wrong, per field.

Validators are compiled once per distinct schema and cached by a hash of the
schema's canonical JSON. Every error becomes a translatable ``Message`` keyed
by the input name of the exact value it concerns (``items[0][qty]``, see
``andon.forms.names``); errors about the whole form are keyed by
``FORM_ERROR``. The renderer names each by its label. User input never raises.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from andon.forms import widget_rules
from andon.forms.coercion import coerce, number_text
from andon.forms.names import CHOICE as CHOSEN_KEY
from andon.forms.names import child, flatten
from andon.forms.schema import FormSpec
from andon.forms.shapes import FormValidator
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
    "date-time": N_("Enter a date and a time."),
    "time": N_("Enter a time as HH:MM."),
    "email": N_("Enter an email address."),
    "uri": N_("Enter a full web address, such as https://example.com."),
}
ARRAY_MESSAGES = {
    "minItems": N_("Add at least %(limit)s rows."),
    "maxItems": N_("Keep at most %(limit)s rows."),
    "uniqueItems": N_("Each row must be different."),
}


def schema_hash(schema: Mapping[str, Any]) -> str:
    """Return a stable hash of a schema's canonical JSON."""
    text = json.dumps(schema, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def validator_for(schema: Mapping[str, Any]) -> Any:
    """Return the compiled validator of ``schema``, the same object for an equal schema."""
    known = _by_identity.get(id(schema))
    if known is not None and known[0] is schema:
        return known[1]
    canonical = json.dumps(schema, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    validator = _compiled(hashlib.sha256(canonical.encode()).hexdigest(), canonical)
    if len(_by_identity) >= 256:
        _by_identity.pop(next(iter(_by_identity)))
    _by_identity[id(schema)] = (schema, validator)  # the schema is kept, so its id stays its own
    return validator


_by_identity: dict[int, tuple[Mapping[str, Any], Any]] = {}


@lru_cache(maxsize=256)
def _compiled(digest: str, canonical: str) -> Any:
    """Compile the schema whose canonical JSON is ``canonical`` (``digest`` is the cache key)."""
    return FormValidator(json.loads(canonical), format_checker=Draft202012Validator.FORMAT_CHECKER)


def validate(spec: FormSpec, data: Mapping[str, Any],
             form: Mapping[str, Any] | None = None) -> dict[str, Message]:
    """Return one Message per value that breaks the schema, by input name (empty if valid).

    ``form`` (the submitted form) tells which alternative of a oneOf/anyOf the user chose.
    """
    errors: dict[str, Message] = {}
    for error in validator_for(spec.schema).iter_errors(dict(data)):
        for name, message in _describe(error, form or {}):
            errors.setdefault(name, message)
    return widget_rules.drop_hidden(spec, data, errors)


def validate_submission(
    spec: FormSpec, form: Mapping[str, str], timezone: str | None = None
) -> tuple[dict[str, Any], dict[str, Message]]:
    """Return the typed data of a submission and its errors; coercion errors win per field."""
    data, coerce_errors = coerce(spec, form, timezone)
    data = widget_rules.settle(spec, data)  # hidden fields dropped, computed ones the server's
    errors = validate(spec, data, form)
    for name in coerce_errors:  # a value that could not be read has no other error worth showing
        errors.pop(name, None)
    errors.update(coerce_errors)
    return data, widget_rules.drop_hidden(spec, data, errors)


def _describe(error: ValidationError, form: Mapping[str, Any]) -> list[tuple[str, Message]]:
    """Return (input name, Message) pairs for one validation error."""
    where = _name(error.absolute_path)
    if error.validator in ("required", "dependentRequired"):
        missing = _missing(error)
        return [(child(where, name), Message(N_("This field is required."))) for name in missing
                ] or [(where or FORM_ERROR, Message(GENERIC))]
    if error.validator in ("oneOf", "anyOf") and error.context and _object_branches(error):
        branch = _chosen_branch(error.context, flatten(form).get(child(where, CHOSEN_KEY)))
        return [pair for sub in branch for pair in _describe(sub, form)]
    return [(where or FORM_ERROR, message_for(error))]


def _name(path: Any) -> str:
    """Return the input name of a JSON path."""
    name = ""
    for key in path:
        name = child(name, key)
    return name


def _object_branches(error: ValidationError) -> bool:
    """Tell whether a oneOf/anyOf error is about alternatives of objects (not of consts)."""
    branches = error.validator_value
    return isinstance(branches, list) and isinstance(error.instance, dict) and not all(
        isinstance(b, dict) and "const" in b for b in branches)


def _chosen_branch(context: list[ValidationError], choice: str | None) -> list[ValidationError]:
    """Return the errors of the alternative the user chose, else of the one closest to valid."""
    by_branch: dict[Any, list[ValidationError]] = {}
    for sub in context:
        by_branch.setdefault(sub.schema_path[0] if sub.schema_path else 0, []).append(sub)
    if choice is not None and choice.isdigit() and int(choice) in by_branch:
        return by_branch[int(choice)]
    return min(by_branch.values(), key=len)


def _missing(error: ValidationError) -> list[str]:
    """Return the names a required or dependentRequired error finds missing."""
    instance = error.instance if isinstance(error.instance, dict) else {}
    wanted: Any = error.validator_value
    if error.validator == "dependentRequired":
        wanted = [n for present, needs in wanted.items() if present in instance for n in needs]
    return [str(n) for n in wanted if n not in instance]


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


def _array_message(error: ValidationError) -> Message:
    """Return the message for a table with too few, too many or repeated rows."""
    return Message(ARRAY_MESSAGES[str(error.validator)], {"limit": error.validator_value})


_BUILDERS: dict[str, Callable[[ValidationError], Message]] = {
    "type": _type_message,
    "format": _format_message,
    "pattern": lambda _error: Message(N_("Enter a value in the expected format.")),
    **{keyword: _limit_message for keyword in LIMIT_MESSAGES},
    **{keyword: _array_message for keyword in ARRAY_MESSAGES},
    **{keyword: _choice_message for keyword in ("enum", "const", "oneOf", "anyOf")},
}
