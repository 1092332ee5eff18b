"""Read BPMN and DMN elements: namespaces, tags, ids and Spiff's step properties."""

from __future__ import annotations

from typing import Any

from lxml import etree

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN_NS, "spiff": SPIFF_NS}
PROPERTY_PATH = "bpmn:extensionElements/spiff:properties/spiff:property"

Problems = list[tuple[str, str]]


def local(element: Any) -> str:
    """Return the tag of ``element`` without its namespace."""
    return str(etree.QName(element).localname) if isinstance(element.tag, str) else ""


def where(element: Any) -> str:
    """Name an element by id, or by line if it has none."""
    return element.get("id") or f"line {element.sourceline}"


def properties(element: Any) -> dict[str, str]:
    """Return the spiff:properties of an element as a dict."""
    return {p.get("name", ""): p.get("value", "") for p in element.findall(PROPERTY_PATH, NS)}
