"""Per-step field permissions: which fields of a step's form are editable, read-only or hidden.

A human step names them in its properties, as comma-separated field names:
``readonly``, ``hidden`` and optionally ``editable`` (then every other field of
the step's form is read-only). A read-only field shows the instance's value
and is never read back from the submission; a hidden one is neither drawn nor
accepted, and the earlier steps' values of that name are not shown to the step.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from andon.flows.elements import say
from andon.forms.names import flatten
from andon.forms.schema import FormSpec, in_order, property_orders
from andon.i18n import N_

Problems = list[tuple[str, str]]


@dataclass(frozen=True)
class Permissions:
    """What a step may change and see of its form and of earlier data."""

    editable: frozenset[str] | None = None
    readonly: frozenset[str] = frozenset()
    hidden: frozenset[str] = frozenset()

    def read_only_in(self, spec: FormSpec) -> frozenset[str]:
        """Return the fields of ``spec`` the step sees but may not change."""
        names = frozenset(spec.properties) - self.hidden
        if self.editable is not None:
            return names - self.editable
        return names & self.readonly

    def kept_in(self, spec: FormSpec) -> frozenset[str]:
        """Return the fields of ``spec`` whose value comes from the instance, not the person."""
        return self.read_only_in(spec) | (frozenset(spec.properties) & self.hidden)


EVERYTHING = Permissions()  # a step without lists: every field editable, nothing hidden


def names(text: str | None) -> list[str]:
    """Split a comma-separated list of field names."""
    return [name.strip() for name in (text or "").split(",") if name.strip()]


def parse(properties: Mapping[str, str]) -> Permissions:
    """Return the permissions a step's properties give."""
    editable = frozenset(names(properties["editable"])) if "editable" in properties else None
    return Permissions(editable, frozenset(names(properties.get("readonly"))),
                       frozenset(names(properties.get("hidden"))))


def of_step(content: Mapping[str, Any], step_id: str) -> Permissions:
    """Return the permissions of one step of a flow version's compiled content."""
    for step in content.get("steps", []):
        if step.get("id") == step_id:
            return parse(step.get("properties") or {})
    return EVERYTHING


def view(spec: FormSpec, permissions: Permissions) -> FormSpec:
    """Return the step's view of a form: read-only fields marked, hidden ones left out."""
    read_only, hidden = permissions.read_only_in(spec), permissions.hidden
    if not read_only and not hidden & frozenset(spec.properties):
        return spec
    written = in_order(spec.properties, spec.orders)
    props = {name: ({**spec.properties[name], "readOnly": True} if name in read_only
                    else spec.properties[name]) for name in written if name not in hidden}
    schema = {**spec.schema, "properties": props,
              "required": [n for n in spec.schema.get("required", [])
                           if n not in hidden and n not in read_only]}
    layout = {**spec.layout,
              "order": [n for n in spec.layout.get("order", []) if n not in hidden],
              "fields": {n: f for n, f in spec.layout.get("fields", {}).items()
                         if n not in hidden}}
    return replace(spec, schema=schema, layout=layout,
                   orders={**spec.orders, **property_orders(schema)})


def keep(spec: FormSpec, permissions: Permissions, data: Mapping[str, Any],
         instance_data: Mapping[str, Any]) -> dict[str, Any]:
    """Return validated step data with the read-only fields set to the instance's values."""
    kept = dict(data)
    for name in permissions.read_only_in(spec):
        kept.pop(name, None)
        if name in instance_data:
            kept[name] = instance_data[name]
    for name in permissions.hidden:
        kept.pop(name, None)
    return kept


def prefill(spec: FormSpec, permissions: Permissions, values: Mapping[str, Any],
            instance_data: Mapping[str, Any]) -> dict[str, Any]:
    """Return the flat form values with the read-only fields showing the instance's values."""
    shown = permissions.kept_in(spec)
    flat = {key: value for key, value in values.items()
            if not any(key == n or key.startswith(f"{n}[") for n in shown)}
    flat.update(flatten({n: instance_data[n] for n in permissions.read_only_in(spec)
                         if n in instance_data}))
    return flat


def overlaps(step_id: str, permissions: Permissions) -> Problems:
    """Return a problem for each field a step names in two of its lists."""
    lists = {"editable": permissions.editable or frozenset(),
             "readonly": permissions.readonly, "hidden": permissions.hidden}
    return [(step_id, say(N_("%(field)s is named both in %(first)s and in %(second)s"),
                          {"field": repr(name), "first": first, "second": second}))
            for first, second in (("editable", "readonly"), ("editable", "hidden"),
                                  ("readonly", "hidden"))
            for name in sorted(lists[first] & lists[second])]


def check(steps: Mapping[str, Mapping[str, str]], specs: Mapping[str, FormSpec],
          start: str) -> Problems:
    """Return problems with the steps' lists against the forms the flow pins.

    ``steps`` maps each human step's id to its properties, ``specs`` each form
    key to its form, ``start`` is the starter's step. A name must be a field of
    some form of the flow; a hidden required field must be editable in another step.
    """
    problems: Problems = []
    known = {name for spec in specs.values() for name in spec.properties}
    for step_id, props in steps.items():
        rights = parse(props)
        if rights == EVERYTHING:
            continue
        if step_id == start:
            problems.append((step_id, N_("The starter's step has no earlier data to show or "
                                         "keep; editable, readonly and hidden do not apply")))
            continue
        listed = (rights.editable or frozenset()) | rights.readonly | rights.hidden
        problems += [(step_id, say(N_("%(field)s is not a field of any form of this flow"),
                                   {"field": repr(name)})) for name in sorted(listed - known)]
        spec = specs.get(props.get("form", ""))
        if spec is not None:
            problems += _unfilled(step_id, spec, rights, steps, specs)
    return problems


def _unfilled(step_id: str, spec: FormSpec, rights: Permissions,
              steps: Mapping[str, Mapping[str, str]], specs: Mapping[str, FormSpec]) -> Problems:
    """Return a problem for each hidden required field no other step lets anyone fill in."""
    filled = set()
    for other, props in steps.items():
        other_spec = specs.get(props.get("form", ""))
        if other != step_id and other_spec is not None:
            filled |= set(other_spec.properties) - parse(props).kept_in(other_spec)
    return [(step_id, say(N_("The required field %(field)s is hidden and no other step fills it "
                         "in, so it would never get a value; make it optional, or let an "
                         "earlier step fill it in"), {"field": repr(name)}))
            for name in sorted((spec.required & rights.hidden) - filled)]
