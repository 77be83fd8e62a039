"""Periods: a month ``2026-10``, a quarter ``2026-Q4`` or a year ``2026``, as [start, end)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.cases.deadlines import SHANGHAI
from wangge.core.exceptions import ValidationError

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")


@dataclass(frozen=True)
class Period:
    label: str
    start: date
    end: date  # exclusive
    kind: str  # month | quarter | year | range

    @property
    def days(self) -> int:
        return (self.end - self.start).days


def _add_months(d: date, n: int) -> date:
    y, m = divmod(d.month - 1 + n, 12)
    return date(d.year + y, m + 1, 1)


def parse_period(text: str | None) -> Period:
    """``2026-10``, ``2026-Q4`` or ``2026``; empty means the current month."""
    raw = (text or "").strip()
    if not raw:
        today = timezone.localtime(timezone.now(), SHANGHAI).date()
        raw = f"{today.year}-{today.month:02d}"
    if m := _MONTH.match(raw):
        year, month = int(m[1]), int(m[2])
        if 1 <= month <= 12 and 2000 <= year <= 2100:
            start = date(year, month, 1)
            return Period(f"{year}-{month:02d}", start, _add_months(start, 1), "month")
    if m := _QUARTER.match(raw):
        year, q = int(m[1]), int(m[2])
        if 2000 <= year <= 2100:
            start = date(year, 3 * q - 2, 1)
            return Period(f"{year}-Q{q}", start, _add_months(start, 3), "quarter")
    if m := _YEAR.match(raw):
        year = int(m[1])
        if 2000 <= year <= 2100:
            return Period(str(year), date(year, 1, 1), date(year + 1, 1, 1), "year")
    raise ValidationError(
        _("统计期“%(p)s”格式不正确，应为 2026-10、2026-Q4 或 2026。") % {"p": raw},
        errors={"period": ["invalid"]},
    )


def date_range(start: date | None, end: date | None) -> Period:
    """An explicit range [start, end] of days (``end`` inclusive, as people write it)."""
    if start is None or end is None:
        raise ValidationError(_("请提供开始和结束日期。"), errors={"start": ["required"]})
    if end < start:
        raise ValidationError(_("结束日期不能早于开始日期。"), errors={"end": ["before_start"]})
    if (end - start).days > 3660:
        raise ValidationError(_("统计区间不能超过十年。"), errors={"end": ["too_long"]})
    return Period(f"{start}~{end}", start, end + timedelta(days=1), "range")


def previous_month(today: date | None = None) -> Period:
    today = today or timezone.localtime(timezone.now(), SHANGHAI).date()
    first = today.replace(day=1)
    return parse_period(f"{_add_months(first, -1):%Y-%m}")


def is_whole_months(p: Period) -> bool:
    return p.start.day == 1 and p.end.day == 1
