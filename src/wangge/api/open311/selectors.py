"""Public reads of the GeoReport v2 endpoint.

Everything here is public: only catalogue data and the public face of cases. Names, phones,
e-mail addresses and reporter accounts are never read; for matters about private life (the
catalogue's social-governance kind: 矛盾纠纷 and the like) the description is withheld and the
location is given only as the grid and a point rounded to about 100 m. Digit runs that look like
phone or ID numbers are masked in every description."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils.translation import gettext as _

from wangge.cases.choices import OPEN_STATES, CaseState, HandlingLevel, MatterKind, TimeUnit
from wangge.cases.models import Case, CaseEvent, MatterType

from ..models import Open311Request, ServiceAttribute

OPEN = (*OPEN_STATES, CaseState.SUSPENDED)
PRIVATE_KINDS = {MatterKind.SOCIAL}
_DIGITS = re.compile(r"\d[\d\- ]{5,}\d")


def public_matter_types() -> QuerySet[MatterType]:
    return MatterType.objects.filter(active=True, is_public=True).order_by("code")


def service_list() -> list[dict[str, Any]]:
    with_attrs = set(
        ServiceAttribute.objects.filter(variable=True).values_list("service_code", flat=True)
    )
    return [
        {
            "service_code": mt.code,
            "service_name": mt.name,
            "description": mt.filing_conditions or mt.name,
            "metadata": mt.code in with_attrs,
            "type": "realtime",
            "keywords": ", ".join(str(k) for k in (mt.keywords or [])),
            "group": mt.group_name,
        }
        for mt in public_matter_types()
    ]


def public_matter_type(code: str) -> MatterType | None:
    return public_matter_types().filter(code=(code or "").strip()).first()


def service_attributes(code: str) -> list[ServiceAttribute]:
    return list(ServiceAttribute.objects.filter(service_code=code).order_by("order", "code"))


def service_definition(mt: MatterType) -> dict[str, Any]:
    return {
        "service_code": mt.code,
        "attributes": [
            {
                "variable": a.variable,
                "code": a.code,
                "datatype": a.datatype,
                "required": a.required,
                "datatype_description": a.datatype_description,
                "order": a.order,
                "description": a.description,
                "values": [{"key": str(v["key"]), "name": str(v["name"])} for v in a.values],
            }
            for a in service_attributes(mt.code)
        ],
    }


def _unit(unit: str) -> str:
    return str(TimeUnit(unit).label) if unit in TimeUnit.values else unit


def service_notice(rules: dict[str, Any]) -> str:
    """The promised handling time of the matter type, in words."""
    limit, unit = rules.get("handle_limit"), rules.get("handle_unit")
    if not limit or not unit:
        return ""
    return _("处置时限：%(n)s%(u)s（自派遣起计）") % {"n": limit, "u": _unit(str(unit))}


def mask_digits(text: str) -> str:
    return _DIGITS.sub("***", text or "")


@dataclass
class RequestFilters:
    ids: list[str] | None = None
    service_codes: list[str] | None = None
    start: datetime | None = None
    end: datetime | None = None
    statuses: list[str] | None = None


def _public_cases() -> QuerySet[Case]:
    notes = (
        CaseEvent.objects.filter(case=OuterRef("pk"))
        .exclude(public_text="")
        .order_by("-created_at", "-id")
        .values("public_text")[:1]
    )
    return (
        Case.objects.filter(matter_type__is_public=True)
        .select_related("matter_type", "grid", "department", "handling_region", "open311")
        .annotate(status_notes=Subquery(notes))
    )


def request_list(f: RequestFilters) -> QuerySet[Case]:
    qs = _public_cases()
    if f.ids is not None:
        return qs.filter(tracking_code__in=[i.upper() for i in f.ids]).order_by("-reported_at")
    if f.service_codes:
        qs = qs.filter(matter_type__code__in=f.service_codes)
    if f.start is not None:
        qs = qs.filter(reported_at__gte=f.start)
    if f.end is not None:
        qs = qs.filter(reported_at__lte=f.end)
    if f.statuses and set(f.statuses) != {"open", "closed"}:
        qs = qs.filter(state__in=OPEN) if "open" in f.statuses else qs.exclude(state__in=OPEN)
    return qs.order_by("-reported_at", "-id")


def request_get(service_request_id: str) -> Case | None:
    return _public_cases().filter(tracking_code=(service_request_id or "").strip().upper()).first()


def token_lookup(token: str) -> Open311Request | None:
    return Open311Request.objects.select_related("case").filter(token=(token or "").strip()).first()


def agency_responsible(case: Case) -> str:
    if case.department_id:
        return case.department.name  # type: ignore[union-attr]
    level = (
        str(HandlingLevel(case.handling_level).label)
        if case.handling_level in HandlingLevel.values
        else case.handling_level
    )
    region = case.handling_region or case.grid
    return f"{level}（{region.name}）"


def public_request(case: Case) -> dict[str, Any]:
    """The GeoReport v2 fields of one case, in the spec's order."""
    mt = case.matter_type
    private = mt is not None and mt.kind in PRIVATE_KINDS
    link: Open311Request | None = getattr(case, "open311", None)
    closed = case.state not in OPEN
    if private:
        description = ""
        address = case.grid.name
        lat, lon = round(case.lat, 3), round(case.lon, 3)
    else:
        description = mask_digits(case.description or case.title)
        address = case.address or case.grid.name
        lat, lon = case.lat, case.lon
    updated = max(d for d in (case.updated_at, case.reported_at) if d is not None)
    return {
        "service_request_id": case.tracking_code,
        "status": "closed" if closed else "open",
        "status_notes": getattr(case, "status_notes", "") or "",
        "service_name": mt.name if mt else "",
        "service_code": mt.code if mt else "",
        "description": description,
        "agency_responsible": agency_responsible(case),
        "service_notice": service_notice(case.rules or {}),
        "requested_datetime": case.reported_at,
        "updated_datetime": updated,
        "expected_datetime": None if closed else case.due_at,
        "address": address,
        "address_id": link.address_id if link else "",
        "zipcode": "",
        "lat": lat,
        "long": lon,
        "media_url": link.media_url if link and not private else "",
    }
