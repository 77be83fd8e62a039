from __future__ import annotations

from datetime import date

from ninja import Schema


class IndicatorQuery(Schema):
    area: str
    start: date | None = None
    end: date | None = None  # inclusive
    period: str | None = None  # 2026-10, 2026-Q4 or 2026 instead of start/end


class IndicatorOut(Schema):
    code: str
    name: str
    unit: str
    higher_is_better: bool
    definition: str
    value: float | None
    display: str


class AreaOut(Schema):
    code: str
    name: str
    level: str


class IndicatorsOut(Schema):
    area: AreaOut
    period: str
    start: date
    end: date  # inclusive
    as_of: str
    indicators: list[IndicatorOut]
    counts: dict[str, int]
