"""Deploy checks for message events, event-based gateways and scheduled starts.

The rest of the subset lives in :mod:`andon.flows.subset`, which calls these.
What SpiffWorkflow 3.2 runs was checked by running it:

- an event-based gateway with message branches and at most one timer branch
  works; with two timers the gateway keeps one due time for both (the second
  reuses the first's), so that is refused;
- a message must name a ``bpmn:message`` (its ``name`` is what is delivered);
- Spiff's own correlation (``correlationKey``, ``correlationProperty`` and a
  ``processVariableCorrelation`` on the catch event) leaves the waiting
  instance with no correlation values, and an instance without values catches
  any message of that name: a message for project P2 reached the instance of
  P1. Andon therefore correlates with the ``correlation`` property and
  refuses Spiff's.
"""

from __future__ import annotations

from typing import Any

from andon import expressions
from andon.flows import owners, waits
from andon.flows.elements import NS, PROPERTY_PATH, Problems, local, where
from andon.i18n import N_

GATEWAY_BRANCHES = ("messageEventDefinition", "timerEventDefinition")


def _property(element: Any, name: str) -> str | None:
    """Return one spiff:property of an element, if set."""
    found = element.find(f"{PROPERTY_PATH}[@name='{name}']", NS)
    return None if found is None else found.get("value")


def check_message(node: Any, definition: Any) -> Problems:
    """Require a named bpmn:message and a well-formed ``correlation`` property."""
    ref = definition.get("messageRef")
    root = node.getroottree().getroot()
    message = next((m for m in root.findall("bpmn:message", NS) if m.get("id") == ref), None)
    if message is None or not message.get("name"):
        return [(where(node), N_("A message event must name a bpmn:message with a name "
                                  "(messageRef)"))]
    if message.find("bpmn:extensionElements", NS) is not None:
        return [(where(node), N_("Put spiff:messagePayload and spiff:messageVariable inside "
                                  "the messageEventDefinition, not the bpmn:message"))]
    if node.find(".//spiff:processVariableCorrelation", NS) is not None \
            or root.find("bpmn:correlationProperty", NS) is not None:
        return [(where(node), N_("Correlate messages with the 'correlation' property "
                                  "(name=expression), not with correlation properties"))]
    try:
        waits.parse_correlation(_property(node, "correlation"))
    except (ValueError, expressions.ExpressionError) as error:
        return [(where(node), str(error))]
    return []


def check_start_timer(node: Any, definition: Any) -> Problems:
    """Allow a main process's timer start only as a literal cycle with a one-person starter."""
    cycle = definition.find("bpmn:timeCycle", NS)
    if cycle is None:
        return [(where(node), N_("A timer start event on the main process needs a timeCycle, "
                                  "e.g. \"R/2026-01-05T10:00:00+08:00/P2W\""))]
    try:
        value = expressions.evaluate((cycle.text or "").strip(), {})
    except expressions.ExpressionError:
        value = None
    if not isinstance(value, str):
        return [(where(node), N_("A scheduled start needs a quoted cycle, e.g. "
                                  "\"R/2026-01-05T10:00:00+08:00/P2W\""))]
    starter = (_property(node, "starter") or "").strip()
    if not starter.startswith(("user:", "role:")) or owners.RULE.match(starter) is None:
        return [(where(node), N_("A timer start event needs a 'starter' property naming who "
                                  "starts each instance: user:<username> or role:<role>"))]
    return []


def check_gateways(container: Any) -> Problems:
    """Let an event-based gateway lead to message catches and at most one timer catch."""
    problems = []
    nodes = {child.get("id"): child for child in container}
    for gateway in (c for c in container if local(c) == "eventBasedGateway"):
        targets = [nodes.get(flow.get("targetRef")) for flow in container
                   if local(flow) == "sequenceFlow" and flow.get("sourceRef") == gateway.get("id")]
        kinds = [_branch(target) for target in targets]
        if len(targets) < 2 or None in kinds:
            problems.append((where(gateway), N_(
                "An event-based gateway must lead to two or more intermediate catch events, "
                "each waiting for a message or a timer")))
        elif kinds.count("timerEventDefinition") > 1:
            problems.append((where(gateway), N_(
                "An event-based gateway may wait for at most one timer: SpiffWorkflow 3.2 "
                "gives all its timers the first timer's due time")))
    return problems


def _branch(target: Any) -> str | None:
    """Return the event definition an event-based gateway's branch waits for, if allowed."""
    if target is None or local(target) != "intermediateCatchEvent":
        return None
    kinds = [local(e) for e in target if local(e).endswith("EventDefinition")]
    return kinds[0] if len(kinds) == 1 and kinds[0] in GATEWAY_BRANCHES else None
