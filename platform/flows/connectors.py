"""Connectors: what a BPMN service task does, named in the file, run by the worker.

A service task names its connector and parameters with SpiffArena's own extension,
so files stay editable in SpiffArena's modeller::

    <spiff:serviceTaskOperator id="webhook" resultVariable="answer">
      <spiff:parameters>
        <spiff:parameter id="url" type="str" value="'https://chat.example/hook'"/>
      </spiff:parameters>
    </spiff:serviceTaskOperator>

Each parameter value is an expression in :mod:`andon.expressions` over the task's
data. Every connector describes its parameters (as redash's query runners
describe their options), so a deploy checks names, required parameters and
expressions, and a run checks the values' types. A connector may also take
open-ended parameters named with a prefix (``update_record`` takes ``set.<field>``),
which it evaluates itself. Adding a connector is one entry in :data:`REGISTRY`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from andon import audit, expressions, outbound, temporal
from andon.errors import AndonError, InvalidSubmission, NotFound, StaleInstance, Undelivered
from andon.flows import owners, runtime
from andon.flows.models import FlowInstance
from andon.forms import records
from andon.forms.jsonsql import field_value
from andon.forms.models import Record
from andon.i18n import N_, Message
from andon.identity.models import User
from andon.notifications.center import notify

#: the types a parameter may take, with the Python types its value may have
KINDS: dict[str, tuple[type, ...]] = {
    "text": (str,), "number": (int, float), "object": (dict,), "list": (list, tuple),
    "boolean": (bool,), "any": (object,),
}
MAX_TIMEOUT = 30.0
MAX_FOUND = 200  # records a find_records step hands to the flow at most


class ConnectorError(Undelivered):
    """A connector could not do its work; ``temporary`` says whether trying later may help."""


@dataclass(frozen=True)
class Param:
    """One parameter a connector takes: its name, type and whether it is required."""

    name: str
    kind: str
    required: bool = True
    help: str = ""


@dataclass(frozen=True)
class Call:
    """One run of a connector: where it runs and its evaluated parameters."""

    session: Session
    instance: FlowInstance
    step_id: str
    task_id: str
    params: dict[str, Any]
    now: datetime
    allow_private: bool = False
    key: str = ""  # the work item's key: the same on every attempt of this run
    texts: Mapping[str, str] = field(default_factory=dict)  # the parameters as written
    data: Mapping[str, Any] = field(default_factory=dict)  # the step's data


@dataclass(frozen=True)
class Connector:
    """A named action a service task runs, its parameters and a check of literal values."""

    name: str
    params: tuple[Param, ...]
    run: Callable[[Call], Any]
    check_literal: Callable[[str, Any], str | None] = lambda name, value: None
    prefix: str = ""  # open-ended parameters: <prefix><name>, evaluated by the connector


def _people(call: Call) -> list[User]:
    """Return the people the ``to`` owner rule names, or fail without retrying."""
    instance = call.instance
    try:
        people = owners.people(call.session, call.params["to"], instance.started_by, None,
                               instance.data)
    except ValueError as error:
        raise ConnectorError(N_("The owner rule %(rule)s is not valid: %(detail)s"),
                             rule=call.params["to"], detail=str(error)) from None
    if not people:
        raise ConnectorError(N_("The owner rule %(rule)s names nobody"), rule=call.params["to"])
    return people


def run_notify(call: Call) -> dict[str, Any]:
    """Give the people an owner rule names an in-app notification (and email if they chose)."""
    message = Message(N_("%(title)s: %(text)s"), {"title": call.instance.title,
                                                  "text": str(call.params["message"])})
    people = {person.id: person for person in _people(call)}
    for person in people.values():
        notify(call.session, person, "flow", message,
               f"service:{call.instance.id}:{call.task_id}:{person.id}",
               instance_id=call.instance.id, now=call.now)
    return {"notified": sorted(person.username for person in people.values())}


def _notify_literal(name: str, value: Any) -> str | None:
    """Check a literal owner rule at deploy time."""
    if name != "to":
        return None
    try:
        owners.parse(str(value), None)
    except ValueError as error:
        return str(error)
    return None


def run_webhook(call: Call) -> dict[str, Any]:
    """Send an HTTP request; return the answer's status and body (JSON when it is JSON)."""
    params = call.params
    headers = params.get("headers") or {}
    if not all(isinstance(v, str) for v in headers.values()):
        raise ConnectorError(N_("Every header value must be text"))
    timeout = min(float(params.get("timeout") or outbound.DEFAULT_TIMEOUT), MAX_TIMEOUT)
    # a receiver that saw this key already knows the call is a retry and may ignore it
    headers = {"Idempotency-Key": call.key, **headers} if call.key else headers
    answer = outbound.send(str(params.get("method") or "POST"), params["url"], params.get("body"),
                           headers=headers, timeout=timeout, allow_private=call.allow_private)
    body = answer.json()
    return {"status": answer.status, "body": answer.body if body is None else body}


def _webhook_literal(name: str, value: Any) -> str | None:
    """Check a literal method or address at deploy time."""
    if name == "method" and str(value).upper() not in outbound.METHODS:
        return f"method {value!r} is not one of {', '.join(outbound.METHODS)}"
    if name == "url" and not str(value).startswith(("http://", "https://")):
        return f"url {value!r} is not an http or https address"
    return None


def run_start_flow(call: Call) -> dict[str, Any]:
    """Start the published version of another flow with mapped data; it records its parent."""
    params, session = call.params, call.session
    starter = _acting_user(call)
    form = {key: _form_text(value) for key, value in params["data"].items()}
    try:
        child = runtime.start_instance(session, params["flow"], starter, form,
                                       parent=call.instance)
    except InvalidSubmission as invalid:
        fields = ", ".join(f"{name}: {error.render()}" for name, error in invalid.errors.items())
        raise ConnectorError(N_("The data for %(flow)s is not valid: %(fields)s"),
                             flow=params["flow"], fields=fields) from None
    except NotFound:
        raise ConnectorError(N_("No published flow has the key %(flow)s"),
                             flow=params["flow"]) from None
    return {"instance": child.id}


def run_record(call: Call) -> dict[str, Any]:
    """Create a record of a form, or update the fields given of an existing one."""
    params, session = call.params, call.session
    user = _acting_user(call)
    copied = {name: call.instance.data[name] for name in params.get("copy") or ()
              if call.instance.data.get(name) not in (None, "", [])}
    params = {**params, "data": {**copied, **params["data"]}}
    try:
        if params.get("record") is None:
            record = records.create_record(session, params["form"], params["data"], user)
        else:
            found = session.get(Record, int(params["record"]))
            if found is None or found.form_key != params["form"]:
                raise ConnectorError(N_("There is no record %(id)s of form %(form)s"),
                                     id=params["record"], form=params["form"])
            record = records.update_record(session, found.id, {**found.data, **params["data"]},
                                           user, found.lock_version)
    except InvalidSubmission as invalid:
        fields = ", ".join(f"{name}: {error.render()}" for name, error in invalid.errors.items())
        raise ConnectorError(N_("The data for %(flow)s is not valid: %(fields)s"),
                             flow=params["form"], fields=fields) from None
    return {"record": record.id, "version": record.lock_version}


def run_update_record(call: Call) -> dict[str, Any]:
    """Set fields of an existing record by expressions, validate it and record who and when.

    Each ``set.<field>`` expression sees the step's data and ``record``: the record's
    values before the update, every field of its form present (``None`` when empty).
    A value of ``None`` empties the field. Nothing is saved unless every field is set
    and the whole record is valid against its form.
    """
    params, session = call.params, call.session
    found = session.get(Record, int(params["record"]))
    if found is None or found.form_key != params["form"]:
        raise ConnectorError(N_("There is no record %(id)s of form %(form)s"),
                             id=params["record"], form=params["form"])
    spec = records.record_spec(session, found)
    values = dict(found.data)
    scope = {**call.data, "record": {name: found.data.get(name) for name in spec.properties}}
    for name, text in _settings(call.texts):
        if name not in spec.properties:
            raise ConnectorError(N_("The form %(form)s has no field %(field)s to set"),
                                 form=params["form"], field=name)
        try:
            value = temporal.to_json(expressions.evaluate(text, scope))
        except expressions.ExpressionError as error:
            raise ConnectorError(N_("The new value of the field %(field)s could not be "
                                    "evaluated: %(error)s"), field=name, error=str(error)) from None
        values[name] = value
    user = _acting_user(call)
    before = dict(found.data)
    try:
        record = records.update_record(session, found.id, _present(values), user,
                                       found.lock_version, by_flow=True)
    except InvalidSubmission as invalid:
        fields = ", ".join(f"{name}: {error.render()}" for name, error in invalid.errors.items())
        raise ConnectorError(N_("The updated record %(id)s of form %(form)s is not valid: "
                                "%(fields)s"), id=found.id, form=params["form"],
                             fields=fields) from None
    audit.record(session, "record.updated_by_flow", "record", record.id, user.id,
                 instance=call.instance.id, step=call.step_id,
                 fields=sorted(records.diff(before, record.data)))
    return {"record": record.id, "version": record.lock_version, "values": dict(record.data)}


def _settings(texts: Mapping[str, str]) -> list[tuple[str, str]]:
    """Return (field, expression) of each ``set.<field>`` parameter, in the order written."""
    prefix = "set."
    return [(key[len(prefix):], text) for key, text in texts.items() if key.startswith(prefix)]


def _present(values: Mapping[str, Any]) -> dict[str, Any]:
    """Return the values without the emptied (None) fields."""
    return {name: value for name, value in values.items() if value is not None}


def run_find_records(call: Call) -> dict[str, Any]:
    """Return the records of a form whose fields equal ``where``, oldest first, with ``fields``."""
    params = call.params
    where, keep = params.get("where") or {}, params.get("fields") or ()
    limit = int(params.get("limit") or MAX_FOUND)
    query = select(Record).where(Record.form_key == params["form"]).order_by(Record.id)
    for name, value in where.items():  # text is narrowed in SQL, every value checked below
        if isinstance(value, str):
            query = query.where(field_value(Record.data, [name]) == value)
    found = []
    for record in call.session.scalars(query):
        if all(record.data.get(name) == value for name, value in where.items()):
            found.append({"id": record.id, **{name: record.data.get(name) for name in keep}})
    return {"count": len(found), "records": found[:min(limit, MAX_FOUND)]}


def _acting_user(call: Call) -> User:
    """Return the user a connector acts as: the one named by ``as``, else the starter."""
    if not call.params.get("as"):
        return call.instance.started_by
    named = call.session.scalar(select(User).where(User.username == call.params["as"],
                                                   User.active))
    if named is None:
        raise ConnectorError(N_("No active user is named %(name)s"), name=call.params["as"])
    return named


def _form_text(value: Any) -> str:
    """Write a mapped value the way a submitted form field holds it."""
    if isinstance(value, bool):
        return "on" if value else ""
    return "" if value is None else str(value)


REGISTRY: dict[str, Connector] = {c.name: c for c in (
    Connector("notify", (Param("to", "text", help="owner rule, e.g. 'role:admin'"),
                         Param("message", "text")), run_notify, _notify_literal),
    Connector("webhook", (Param("url", "text"), Param("method", "text", required=False),
                          Param("body", "any", required=False),
                          Param("headers", "object", required=False),
                          Param("timeout", "number", required=False)),
              run_webhook, _webhook_literal),
    Connector("start_flow", (Param("flow", "text"), Param("data", "object"),
                             Param("as", "text", required=False)), run_start_flow),
    Connector("record", (Param("form", "text"), Param("data", "object"),
                         Param("record", "number", required=False),
                         Param("as", "text", required=False),
                         Param("copy", "list", required=False,
                               help="fields copied from the instance data when filled in")),
              run_record),
    Connector("update_record", (Param("form", "text"), Param("record", "number"),
                                Param("as", "text", required=False)),
              run_update_record, prefix="set."),
    Connector("find_records", (Param("form", "text"), Param("where", "object", required=False),
                               Param("fields", "list", required=False),
                               Param("limit", "number", required=False)), run_find_records),
)}


def problems(name: str, params: Mapping[str, str]) -> list[str]:
    """Say what is wrong with a service task's connector and parameter expressions."""
    connector = REGISTRY.get(name)
    if connector is None:
        return [f"unknown connector {name!r}; connectors are {', '.join(sorted(REGISTRY))}"]
    known = {param.name: param for param in connector.params}
    takes = ", ".join([*known, *([f"{connector.prefix}<name>"] if connector.prefix else [])])
    found = [f"connector {name} has no parameter {key!r}; it takes {takes}"
             for key in params if key not in known and not _open(connector, key)]
    if connector.prefix and not any(_open(connector, key) for key in params):
        found.append(f"connector {name} needs at least one {connector.prefix}<name> parameter")
    found += [f"connector {name} needs the parameter {param.name!r}"
              for param in connector.params if param.required and param.name not in params]
    for key, text in params.items():
        try:
            expressions.check(text)
            value = expressions.evaluate(text, {})
        except expressions.ExpressionError as error:
            if "Unknown name" not in str(error):
                found.append(f"parameter {key!r}: {error}")
            continue
        detail = connector.check_literal(key, value) if key in known else None
        found += [f"parameter {key!r}: {detail}"] if detail else []
    return found


def _open(connector: Connector, key: str) -> bool:
    """Tell whether a parameter is one of the connector's open-ended ones."""
    return bool(connector.prefix) and key.startswith(connector.prefix) \
        and key[len(connector.prefix):].isidentifier()


def evaluate(connector: Connector, params: Mapping[str, str],
             data: Mapping[str, Any]) -> dict[str, Any]:
    """Evaluate parameter expressions over task data and check each value's type."""
    values = {}
    for param in connector.params:
        if param.name not in params:
            continue
        try:
            value = expressions.evaluate(params[param.name], data)
        except expressions.ExpressionError as error:
            raise ConnectorError(N_("The parameter %(name)s could not be evaluated: %(error)s"),
                                 name=param.name, error=str(error)) from None
        if value is None and not param.required:
            continue
        if not _fits(param.kind, value):
            raise ConnectorError(N_("The parameter %(name)s must be %(kind)s, not %(value)s"),
                                 name=param.name, kind=param.kind, value=repr(value)[:200])
        values[param.name] = value
    return values


def _fits(kind: str, value: Any) -> bool:
    """Tell whether a value has a parameter's type (a boolean is no number)."""
    if kind == "any":
        return True
    if isinstance(value, bool):
        return kind == "boolean"
    return isinstance(value, KINDS[kind])


def run(connector: Connector, call: Call) -> Any:
    """Run a connector; a refusal from the domain is permanent, keeping its message."""
    try:
        return connector.run(call)
    except (ConnectorError, outbound.OutboundError, StaleInstance):
        raise
    except AndonError as error:
        raise ConnectorError(error.message.msgid, **error.message.params) from error


def connector(name: str) -> Connector:
    """Return a registered connector, or fail without retrying."""
    found = REGISTRY.get(name)
    if found is None:
        raise ConnectorError(N_("There is no connector named %(name)s"), name=name)
    return found
