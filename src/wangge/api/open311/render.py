"""GeoReport v2 wire formats: XML (declaration, no namespace) and JSON, with the spec's error list.

Every answer is a plain value tree built from the spec's element names: a list of dicts becomes
repeated elements named by the spec (``<services><service>…``), a dict nested elements, scalars
text. JSON keeps lists as arrays even with one item; identifiers are strings."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree as ET

from django.http import HttpResponse

XML_TYPE = "text/xml; charset=utf-8"
JSON_TYPE = "application/json; charset=utf-8"
FORMATS = ("xml", "json")

# The element name of each repeated item, by its container (GeoReport v2 samples).
ITEM_NAMES = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
}


def w3c(value: datetime | None) -> str:
    """UTC with ``Z``, seconds precision (the spec's W3C format)."""
    if value is None:
        return ""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return w3c(value)
    return str(value)


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return w3c(value)
    if isinstance(value, dict):
        return {k: _json_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    return value


def _xml_fill(parent: ET.Element, name: str, value: Any) -> None:
    if isinstance(value, list):
        container = ET.SubElement(parent, name)
        item = ITEM_NAMES.get(name, "item")
        for v in value:
            _xml_fill(container, item, v)
    elif isinstance(value, dict):
        node = ET.SubElement(parent, name)
        for k, v in value.items():
            _xml_fill(node, k, v)
    else:
        ET.SubElement(parent, name).text = _text(value)


def to_xml(root: str, value: Any) -> bytes:
    """``root`` holding ``value`` (a list → repeated items, a dict → child elements)."""
    element = ET.Element(root)
    if isinstance(value, list):
        item = ITEM_NAMES.get(root, "item")
        for v in value:
            _xml_fill(element, item, v)
    else:
        for k, v in value.items():
            _xml_fill(element, k, v)
    body = ET.tostring(element, encoding="unicode")
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + body).encode("utf-8")


def respond(fmt: str, root: str, value: Any, *, status: int = 200) -> HttpResponse:
    if fmt == "xml":
        return HttpResponse(to_xml(root, value), content_type=XML_TYPE, status=status)
    body = json.dumps(_json_value(value), ensure_ascii=False)
    return HttpResponse(body.encode("utf-8"), content_type=JSON_TYPE, status=status)


def error(fmt: str, status: int, description: str) -> HttpResponse:
    """The spec's error list: ``[{"code": 400, "description": "…"}]`` / ``<errors><error>``."""
    return respond(fmt, "errors", [{"code": status, "description": description}], status=status)
