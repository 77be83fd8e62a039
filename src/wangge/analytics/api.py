"""``/api/v1/indicators/``: indicator values of one area over a period (scoped; 404 outside)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router

from .periods import date_range, parse_period
from .schemas import IndicatorQuery, IndicatorsOut
from .selectors import access_area, area_indicators

router = Router(tags=["analytics"])


@router.get("/", response=IndicatorsOut)
def indicators(request: HttpRequest, query: Query[IndicatorQuery]) -> Any:
    """Indicators of the cases reported in ``area`` between ``start`` and ``end`` (inclusive
    dates, Asia/Shanghai), or in ``period``. Definitions: docs/indicators.md."""
    region = access_area(request.user, query.area)
    if query.period or (query.start is None and query.end is None):
        period = parse_period(query.period)
    else:
        period = date_range(query.start, query.end)
    now = timezone.now()
    data = area_indicators(region, period, now=now)
    return {
        "area": {"code": region.code, "name": region.name, "level": region.level},
        "period": period.label,
        "start": period.start,
        "end": period.end - timedelta(days=1),
        "as_of": timezone.localtime(now).isoformat(timespec="seconds"),
        "indicators": data["indicators"],
        "counts": {**data["sums"], "overdue": data["overdue"]},
    }
