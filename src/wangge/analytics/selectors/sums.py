"""General reads of the rollups (per region, per dimension value, per day), of the live cases
(open and overdue), and the indicator values and labels built from them: the API, reports and
assessments read through these; the command-centre page reads the same numbers in one
statement (:mod:`.page`), and a test checks that both agree."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from wangge.cases.choices import CaseState, Source
from wangge.cases.models import LIVE_STATES, Case, Department, MatterType
from wangge.geo.choices import Level
from wangge.geo.models import Region

from ..choices import Dim, Grain
from ..facts import MEASURES, midnight, month_starts
from ..indicators import INDICATORS, compute, empty_sums, fmt
from ..models import (
    CaseRollup,
)
from ..periods import Period

# --- rollup sums ---------------------------------------------------------------------------

_SUMS = {m: Sum(m) for m in MEASURES}


def _bucket_filter(period: Period, grain: str | None = None) -> Q:
    """The rows that sum to ``period``: month rows for the whole months inside it and day rows
    for the partial months at its edges (only the total has day rows; ``grain=Grain.MONTH``
    asks for the months the period overlaps, as the breakdowns do)."""
    if grain == Grain.MONTH:
        return Q(grain=Grain.MONTH, bucket__in=month_starts(period.start, period.end))
    if grain == Grain.DAY:
        return Q(grain=Grain.DAY, bucket__gte=period.start, bucket__lt=period.end)
    whole = [
        m
        for m in month_starts(period.start, period.end)
        if m >= period.start and next_month(m) <= period.end
    ]
    if not whole:
        return Q(grain=Grain.DAY, bucket__gte=period.start, bucket__lt=period.end)
    q = Q(grain=Grain.MONTH, bucket__in=whole)
    if period.start < whole[0]:
        q |= Q(grain=Grain.DAY, bucket__gte=period.start, bucket__lt=whole[0])
    tail = next_month(whole[-1])
    if tail < period.end:
        q |= Q(grain=Grain.DAY, bucket__gte=tail, bucket__lt=period.end)
    return q


def next_month(d: Any) -> Any:
    return (d.replace(day=28) + timedelta(days=4)).replace(day=1)


def _clean(row: dict[str, Any]) -> dict[str, int]:
    return {m: int(row.get(m) or 0) for m in MEASURES}


def sums_by_region(region_ids: Iterable[int], period: Period) -> dict[int, dict[str, int]]:
    """Total sums per region, from one aggregate query (summed in SQL)."""
    ids = list(region_ids)
    out = {pk: empty_sums() for pk in ids}
    rows = (
        CaseRollup.objects.filter(_bucket_filter(period), region_id__in=ids, dim=Dim.TOTAL)
        .values("region_id")
        .annotate(**_SUMS)
        .order_by()
    )
    for row in rows:
        out[row["region_id"]] = _clean(row)
    return out


def breakdowns(region: Region, period: Period, dims: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Sums per value of each of ``dims`` (month rows: the months the period overlaps), from one
    aggregate query."""
    wanted = list(dims)
    out: dict[str, dict[str, Any]] = {d: {} for d in wanted}
    rows = (
        CaseRollup.objects.filter(
            _bucket_filter(period, Grain.MONTH), region_id=region.pk, dim__in=wanted
        )
        .values("dim", "value")
        .annotate(**_SUMS)
        .order_by()
    )
    for row in rows:
        out[row["dim"]][row["value"]] = _clean(row)
    return out


def breakdown(region: Region, period: Period, dim: str) -> dict[str, dict[str, int]]:
    """Sums per value of ``dim`` (month rows: the months the period overlaps)."""
    return breakdowns(region, period, [dim])[dim]


def trend(region: Region, period: Period) -> list[tuple[Any, dict[str, int]]]:
    rows = (
        CaseRollup.objects.filter(
            _bucket_filter(period, Grain.DAY), region_id=region.pk, dim=Dim.TOTAL
        )
        .order_by("bucket")
        .values("bucket", *MEASURES)
    )
    return [(row["bucket"], _clean(row)) for row in rows]


# --- live: open and overdue cases ----------------------------------------------------------


def overdue_cases(path: str, *, now: datetime, period: Period | None = None) -> QuerySet[Case]:
    """Open, not suspended cases under ``path`` whose current step deadline has passed (only
    open cases carry ``due_at``: the partial index ``case_open_due``)."""
    # Only live cases carry ``due_at``; saying so lets the planner use case_live_path.
    qs = Case.objects.filter(state__in=LIVE_STATES, due_at__lt=now, region_path__startswith=path)
    if period is not None:
        qs = qs.filter(
            reported_at__gte=midnight(period.start), reported_at__lt=midnight(period.end)
        )
    return qs


def overdue_by(path: str, *, now: datetime, period: Period | None, field: str) -> dict[Any, int]:
    rows = (
        overdue_cases(path, now=now, period=period)
        .values_list(field)
        .annotate(n=Count("id"))
        .order_by()
    )
    return {k: n for k, n in rows}


def overdue_by_prefix(
    regions: list[Region], path: str, *, now: datetime, period: Period | None
) -> dict[int, int]:
    """Overdue counts per region in ``regions`` (all under ``path``), from one query."""
    paths = overdue_cases(path, now=now, period=period).values_list("region_path", flat=True)
    out = dict.fromkeys((r.pk for r in regions), 0)
    for p in paths.iterator():
        for r in regions:
            if p.startswith(r.path):
                out[r.pk] += 1
                break
    return out


def overdue_groups(
    path: str, *, now: datetime, period: Period | None
) -> list[tuple[str, Any, int]]:
    """(area path, department id, count) of the overdue cases under ``path``: the dashboard's
    overdue total, per sub-area and per department from one read of the live cases."""
    rows = (
        overdue_cases(path, now=now, period=period)
        .values_list("region_path", "department_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return list(rows)


def open_by_grid(path: str) -> dict[int, int]:
    rows = (
        Case.objects.filter(state__in=LIVE_STATES, region_path__startswith=path)
        .values_list("grid_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {k: n for k, n in rows}


def state_labels() -> dict[str, str]:
    found: dict[str, str] = translated(Dim.STATE)
    return found


def _department_names(ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(Department.objects.filter(pk__in=ids).values_list("pk", "name"))


def _type_names(ids: list[int]) -> dict[int, str]:
    """Matter type names from the per-process catalogue copy the intake keeps (rebuilt when the
    catalogue version changes, see ``cases.catalogue``); types not in it (inactive) are read."""
    from wangge.cases.catalogue import active_matter_type_names

    names = active_matter_type_names()
    missing = [i for i in ids if i not in names]
    if not missing:
        return names
    more = dict(MatterType.objects.filter(pk__in=missing).values_list("pk", "name"))
    return {**names, **more}


# --- indicators ----------------------------------------------------------------------------


_TRANSLATED: dict[tuple[str, str | None], Any] = {}


def translated(what: str) -> Any:
    """Translated constants (indicator descriptions, choice labels) per process and language:
    the command centre asks for them on every poll."""
    key = (what, get_language())
    found = _TRANSLATED.get(key)
    if found is None:
        if what == "indicators":
            found = [i.as_dict() for i in INDICATORS]
        else:
            found = {str(k): str(v) for k, v in _CHOICES[what].choices}
        _TRANSLATED[key] = found
    return found


_CHOICES: dict[str, Any] = {Dim.SOURCE: Source, Dim.STATE: CaseState, "level": Level}


def indicator_values(sums: dict[str, int], overdue: int) -> list[dict[str, Any]]:
    values = compute(sums, overdue)
    return [
        {**meta, "value": values[meta["code"]], "display": fmt(meta["code"], values[meta["code"]])}
        for meta in translated("indicators")
    ]


def area_indicators(
    region: Region, period: Period, *, now: datetime | None = None
) -> dict[str, Any]:
    """Indicator values of one area and period (the API and the dashboard header)."""
    now = now or timezone.now()
    sums = sums_by_region([region.pk], period)[region.pk]
    overdue = overdue_cases(region.path, now=now, period=period).count()
    return {"sums": sums, "overdue": overdue, "indicators": indicator_values(sums, overdue)}


def labels(dim: str, values: Iterable[str]) -> dict[str, str]:
    """Display labels of rollup dimension ``values`` (matter type, source, state, department,
    worker ids as the rollups store them); unknown values label themselves."""
    vals = list(values)
    if dim == Dim.TYPE:
        names = _type_names([int(v) for v in vals if v.isdigit()])
        unknown = _("未分类")
        return {v: names.get(int(v), unknown) if v.isdigit() else v for v in vals}
    if dim in (Dim.SOURCE, Dim.STATE):
        choices = translated(dim)
        return {v: choices.get(v, v) for v in vals}
    if dim == Dim.DEPT:
        names = _department_names([int(v) for v in vals if v.isdigit()])
        return {v: names.get(int(v), v) if v.isdigit() else v for v in vals}
    if dim == Dim.WORKER:
        from wangge.accounts.models import User

        users = User.objects.in_bulk([int(v) for v in vals if v.isdigit()])
        return {v: str(users[int(v)]) if v.isdigit() and int(v) in users else v for v in vals}
    return {v: v for v in vals}
