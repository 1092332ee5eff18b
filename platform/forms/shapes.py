"""Read a JSON Schema the way a form needs it: what kind of input, which fields, which rows.

``Shapes`` resolves local ``$ref`` (to ``$defs`` or any ``#/...`` pointer),
merges ``allOf``, and works out an object's fields for its current value:
``if``/``then``/``else``, ``dependentRequired``, ``dependentSchemas`` and the
chosen ``oneOf``/``anyOf`` alternative. Keywords it does not know are ignored;
odd or self-referencing schemas give fewer fields, never an exception.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import unquote

from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError

from andon.forms.schema import FormSpec, in_order, option_values

MAX_DEPTH = 8
SCALARS = ("boolean", "integer", "number", "string")
Schema = dict[str, Any]


def _multiple_of(validator: Any, divisor: Any, instance: Any, schema: Any) -> Any:
    """Check multipleOf in decimal, so 19.99 is a multiple of 0.01 as a person expects."""
    if not validator.is_type(instance, "number") or isinstance(divisor, bool):
        return
    try:
        remainder = Decimal(str(instance)) % Decimal(str(divisor))
    except (InvalidOperation, ArithmeticError):
        return
    if remainder != 0:
        yield ValidationError(f"{instance!r} is not a multiple of {divisor}")


FormValidator = validators.extend(Draft202012Validator, {"multipleOf": _multiple_of})


@dataclass
class ObjectShape:
    """The fields an object shows for its current value."""

    properties: dict[str, Schema] = field(default_factory=dict)
    required: set[str] = field(default_factory=set)
    alternatives: list[Schema] = field(default_factory=list)
    chosen: int | None = None
    conditional: bool = False
    triggers: set[str] | None = field(default_factory=set)

    def triggered_by(self, name: str) -> bool:
        """Tell whether a change of field ``name`` can change this object's fields."""
        return self.conditional and (self.triggers is None or name in self.triggers)


class Shapes:
    """Resolve and classify the subschemas of one root schema."""

    def __init__(self, root: Mapping[str, Any],
                 orders: dict[str, list[str]] | None = None) -> None:
        self.root = dict(root)
        self.orders = orders or {}
        self._validator: Any = None
        self._resolved: dict[int, tuple[Any, Schema]] = {}

    def resolve(self, node: Any, depth: int = 0) -> Schema:
        """Return ``node`` with local $ref followed and allOf merged (booleans become {})."""
        if not isinstance(node, dict) or depth > MAX_DEPTH:
            return {}
        known = self._resolved.get(id(node))
        if known is not None and known[0] is node and depth == 0:
            return dict(known[1])
        result = self._resolve(node, depth)
        if depth == 0:
            self._resolved[id(node)] = (node, result)  # the node is kept, so its id stays its own
        return dict(result)

    def _resolve(self, node: Schema, depth: int) -> Schema:
        """Return one schema node with its $ref and allOf merged in."""
        result = dict(node)
        ref = result.pop("$ref", None)
        if isinstance(ref, str):
            target = self.resolve(self._pointer(ref), depth + 1)
            result = _merge(target, result)
        members = result.pop("allOf", None)
        if isinstance(members, list):
            for member in members:
                result = _merge(result, self.resolve(member, depth + 1))
        return result

    def _pointer(self, ref: str) -> Any:
        """Return the part of the root a local '#/...' reference names, else {}."""
        if not ref.startswith("#"):
            return {}
        node: Any = self.root
        for part in ref[1:].split("/")[1:] if ref != "#" else []:
            part = unquote(part).replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                return {}
        return node

    def kind(self, schema: Schema) -> str:
        """Return object, array, checks, enum, boolean, integer, number or string."""
        if option_values(schema):
            return "enum"
        declared = _declared_type(schema)
        if declared == "array" or (declared is None and ("items" in schema
                                                         or "prefixItems" in schema)):
            items = self.resolve(schema.get("items"))
            return "checks" if schema.get("uniqueItems") and option_values(items) else "array"
        if declared == "object" or (declared is None and self._object_like(schema)):
            return "object"
        return declared if declared in SCALARS else "string"

    def _object_like(self, schema: Schema) -> bool:
        """Tell whether an untyped schema describes an object (fields or alternatives of them)."""
        if "properties" in schema or "if" in schema or "dependentSchemas" in schema:
            return True
        return bool(self.alternatives(schema))

    def alternatives(self, schema: Schema) -> list[Schema]:
        """Return the object-shaped branches of a oneOf/anyOf (empty if it is not one)."""
        for keyword in ("oneOf", "anyOf"):
            branches = schema.get(keyword)
            if isinstance(branches, list) and branches and not option_values(schema):
                resolved = [self.resolve(b) for b in branches[:20]]
                if all(_declared_type(b) in ("object", None) and "properties" in b
                       for b in resolved):
                    return resolved
        return []

    def item_schema(self, schema: Schema, index: int) -> Schema:
        """Return the schema of row ``index`` of an array (prefixItems, then items)."""
        prefix = schema.get("prefixItems")
        if isinstance(prefix, list) and index < len(prefix):
            return self.resolve(prefix[index])
        return self.resolve(schema.get("items"))

    def object_shape(self, schema: Schema, value: Any, choice: str | None) -> ObjectShape:
        """Return the fields of an object schema for its current ``value`` and chosen branch."""
        value = value if isinstance(value, dict) else {}
        shape = ObjectShape(properties=self._properties(schema),
                            required=_names(schema.get("required")))
        self._apply_condition(schema, value, shape)
        self._apply_dependencies(schema, value, shape)
        shape.alternatives = self.alternatives(schema)
        if shape.alternatives:
            shape.conditional = True
            _watch(shape, [name for b in shape.alternatives
                           for name, p in (b.get("properties") or {}).items()
                           if isinstance(p, dict) and "const" in p])
            shape.chosen = self._choose(shape.alternatives, value, choice)
            branch = shape.alternatives[shape.chosen]
            shape.properties.update(self._properties(branch))
            shape.required |= _names(branch.get("required"))
        return shape

    def _properties(self, schema: Schema) -> dict[str, Schema]:
        """Return the property schemas of an object schema, resolved, by name."""
        props = schema.get("properties")
        if not isinstance(props, dict):
            return {}
        return {str(name): self.resolve(props[name]) for name in in_order(props, self.orders)}

    def _apply_condition(self, schema: Schema, value: dict[str, Any],
                         shape: ObjectShape) -> None:
        """Add the fields and requirements of then (or else) for the current value."""
        if "if" not in schema:
            return
        shape.conditional = True
        _watch(shape, _mentioned(self.resolve(schema["if"])))
        branch = schema.get("then") if self.holds(schema["if"], value) else schema.get("else")
        resolved = self.resolve(branch)
        for name, prop in self._properties(resolved).items():
            shape.properties[name] = _merge(shape.properties.get(name, {}), prop)
        shape.required |= _names(resolved.get("required"))

    def _apply_dependencies(self, schema: Schema, value: dict[str, Any],
                            shape: ObjectShape) -> None:
        """Add what dependentRequired and dependentSchemas ask for the present fields."""
        needs = schema.get("dependentRequired")
        if isinstance(needs, dict):
            shape.conditional = True
            _watch(shape, list(needs))
            for present, names in needs.items():
                if present in value:
                    shape.required |= _names(names)
        extra = schema.get("dependentSchemas")
        if isinstance(extra, dict):
            shape.conditional = True
            _watch(shape, list(extra))
            for present, sub in extra.items():
                if present in value:
                    resolved = self.resolve(sub)
                    for name, prop in self._properties(resolved).items():
                        shape.properties.setdefault(name, prop)
                    shape.required |= _names(resolved.get("required"))

    def _choose(self, branches: list[Schema], value: dict[str, Any], choice: str | None) -> int:
        """Return the branch the user chose, else the first the value satisfies, else 0."""
        if choice is not None and choice.strip().isdigit() and int(choice) < len(branches):
            return int(choice)
        if value:
            for index, branch in enumerate(branches):
                if self.holds(branch, value):
                    return index
        return 0

    def holds(self, condition: Any, value: Any) -> bool:
        """Tell whether ``value`` satisfies a subschema (with the root's $defs in reach)."""
        if self._validator is None:
            self._validator = FormValidator(self.root)
        try:
            return bool(self._validator.evolve(schema=condition).is_valid(value))
        except Exception:  # noqa: BLE001 - an odd condition must not break the form
            return False


_by_spec: dict[int, tuple[FormSpec, Shapes]] = {}


def shapes_for(spec: FormSpec) -> Shapes:
    """Return the Shapes of a form, kept while the FormSpec object lives (resolved refs reused)."""
    known = _by_spec.get(id(spec))
    if known is not None and known[0] is spec:
        return known[1]
    if len(_by_spec) >= 64:
        _by_spec.pop(next(iter(_by_spec)))
    shapes = Shapes(form_schema(spec), spec.orders)
    _by_spec[id(spec)] = (spec, shapes)
    return shapes


def form_schema(spec: FormSpec) -> Schema:
    """Return the spec's schema with each layout widget copied into its property as x-widget."""
    root = dict(spec.schema)
    props = root.get("properties")
    if isinstance(props, dict):
        root["properties"] = {
            name: _with_widget(prop, spec.field_layout(name).get("widget"))
            for name, prop in props.items()}
    return root


def _with_widget(prop: Any, widget: Any) -> Any:
    """Return a property schema naming ``widget`` in x-widget (unchanged if none)."""
    if not isinstance(widget, str) or not isinstance(prop, dict):
        return prop
    return {**prop, "x-widget": widget}


def _watch(shape: ObjectShape, names: list[str] | None) -> None:
    """Add the fields whose changes redraw the object; None: any field may."""
    if names is None or shape.triggers is None:
        shape.triggers = None
    else:
        shape.triggers |= {str(n) for n in names}


def _mentioned(condition: Schema) -> list[str] | None:
    """Return the fields an if-schema looks at, None if it may look at any."""
    if set(condition) - {"properties", "required", "type", "title", "description"}:
        return None
    props = condition.get("properties")
    return list(props if isinstance(props, dict) else []) + list(_names(condition.get("required")))


def _declared_type(schema: Schema) -> str | None:
    """Return the schema's type, the first non-null one of a list, or None."""
    declared = schema.get("type")
    if isinstance(declared, list):
        declared = next((t for t in declared if t != "null"), None)
    return declared if isinstance(declared, str) else None


def _names(value: Any) -> set[str]:
    """Return a list of names as a set, ignoring anything that is not one."""
    return {str(n) for n in value} if isinstance(value, list) else set()


def _merge(base: Schema, extra: Schema) -> Schema:
    """Return ``base`` with ``extra`` laid over it; properties and required are united."""
    merged = {**base, **extra}
    if isinstance(base.get("properties"), dict) and isinstance(extra.get("properties"), dict):
        merged["properties"] = {**base["properties"], **extra["properties"]}
    if isinstance(base.get("required"), list) and isinstance(extra.get("required"), list):
        merged["required"] = list(dict.fromkeys(base["required"] + extra["required"]))
    return merged
