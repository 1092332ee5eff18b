"""Read BPMN and DMN elements: namespaces, tags, ids and Spiff's step properties."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lxml import etree

from andon.i18n import Message

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN_NS, "spiff": SPIFF_NS}
PROPERTY_PATH = "bpmn:extensionElements/spiff:properties/spiff:property"

Problems = list[tuple[str, str]]


class Said(str):
    """A problem's text (English, as refusals show it) that keeps its msgid and parameters.

    Refusals list problems as text; the designer's validation translates them
    later from ``message`` (see :func:`message_of`).
    """

    message: Message


def say(msgid: str, params: Mapping[str, Any]) -> Said:
    """Interpolate a message for a problem list, keeping it translatable."""
    text = Said(msgid % dict(params) if params else msgid)
    text.message = Message(msgid, dict(params))
    return text


def said(message: Message) -> Said:
    """Return a Message (e.g. an ExpressionError's) as problem text that keeps it."""
    return say(message.msgid, message.params)


def message_of(text: str | Message) -> Message:
    """Return the translatable message of a problem's text (a plain msgid when not Said)."""
    if isinstance(text, Message):
        return text
    return getattr(text, "message", None) or Message(str(text))


def local(element: Any) -> str:
    """Return the tag of ``element`` without its namespace."""
    return str(etree.QName(element).localname) if isinstance(element.tag, str) else ""


def where(element: Any) -> str:
    """Name an element by id, or by line if it has none."""
    return element.get("id") or f"line {element.sourceline}"


def properties(element: Any) -> dict[str, str]:
    """Return the spiff:properties of an element as a dict."""
    return {p.get("name", ""): p.get("value", "") for p in element.findall(PROPERTY_PATH, NS)}
