"""Hotspots (where and what is rising) and next week's case load per grid.

Hotspots: for every grid × matter type under an area, the reports of the last 7 days are
compared with the 8 weeks before. Under "no change" a report in the 9-week window falls in the
last week with probability 7/63, so given the window's total ``n`` the last week's count is
Binomial(n, 1/9): the one-sided p-value is ``P(X ≥ observed)`` (an exact conditional test of
two Poisson rates). Across all cells the p-values are adjusted with Benjamini–Hochberg; a
hotspot is a cell with q < 0.05 and at least 3 reports this week.

Forecast: next week's reports per grid by exponential smoothing of weekly counts (α chosen on
the older weeks), measured on the last 8 held-out weeks (each forecast only from the weeks
before it) against two naive baselines: last week's count, and the mean of the last 4 weeks.
The errors (MAE) of all three are reported as they come out.

Page loads read, not recompute: :func:`hotspot_data` keeps its answer in the Django cache
(Redis when configured) under the area, the day and the area's *version*, a token that every
case write under the area replaces after commit (``case.created`` / ``case.transitioned`` for
each ancestor of the case's grid) and that ``invalidate_all`` (a rollup rebuild) replaces for
every area. The answer carries the time it was computed. With a per-process cache (no Redis)
writes in another process are not seen, so answers also expire after ``CACHE_SECONDS``."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from uuid import uuid4

from django.core.cache import cache
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.cases.deadlines import SHANGHAI
from wangge.geo.models import Region

from .choices import Dim, Grain
from .models import CaseRollup
from .selectors import grids_under, labels

BASELINE_WEEKS = 8
MIN_COUNT = 3
FDR = 0.05
HISTORY_WEEKS = 30
HELD_OUT_WEEKS = 8
ALPHAS = (0.1, 0.2, 0.3, 0.5, 0.7)


@dataclass
class Hotspot:
    grid_code: str
    grid_name: str
    matter: str
    current: int
    baseline_weekly: float
    ratio: float
    p_value: float
    q_value: float
    lat: float | None
    lon: float | None

    def text(self) -> str:
        return _(
            "%(g)s · %(m)s：本周%(c)d件，前8周平均每周%(b).1f件（%(r).1f倍），p=%(p).2g，q=%(q).2g"
        ) % {
            "g": self.grid_name,
            "m": self.matter,
            "c": self.current,
            "b": self.baseline_weekly,
            "r": self.ratio,
            "p": self.p_value,
            "q": self.q_value,
        }


@dataclass
class HotspotResult:
    start: date
    end: date
    tested: int = 0
    hotspots: list[Hotspot] = field(default_factory=list)

    def summary(self) -> str:
        return _("%(s)s至%(e)s：检验%(n)d个网格×事项组合，%(h)d个显著上升（BH校正q<0.05）") % {
            "s": self.start,
            "e": self.end - timedelta(days=1),
            "n": self.tested,
            "h": len(self.hotspots),
        }


def _today() -> date:
    return timezone.localtime(timezone.now(), SHANGHAI).date()


def hotspots_for(region: Region, *, today: date | None = None) -> HotspotResult:
    from scipy.stats import binom, false_discovery_control

    today = today or _today()
    cur_start = today - timedelta(days=7)
    base_start = cur_start - timedelta(days=7 * BASELINE_WEEKS)
    grids = {g.pk: g for g in grids_under(region)}
    rows = CaseRollup.objects.filter(
        grain=Grain.DAY,
        dim=Dim.TYPE,
        region_id__in=list(grids),
        bucket__gte=base_start,
        bucket__lt=today,
    ).values_list("region_id", "value", "bucket", "reported")
    cur: dict[tuple[int, str], int] = defaultdict(int)
    base: dict[tuple[int, str], int] = defaultdict(int)
    for grid_id, value, bucket, n in rows.iterator():
        (cur if bucket >= cur_start else base)[(grid_id, value)] += n
    cells = [k for k in set(cur) | set(base) if cur.get(k, 0) + base.get(k, 0) > 0]
    result = HotspotResult(start=cur_start, end=today, tested=len(cells))
    if not cells:
        return result
    share = 1 / (1 + BASELINE_WEEKS)
    pvals = [
        float(binom.sf(cur.get(k, 0) - 1, cur.get(k, 0) + base.get(k, 0), share)) for k in cells
    ]
    qvals = false_discovery_control(pvals, method="bh")
    names = labels(Dim.TYPE, {v for _g, v in cells})
    for k, p, q in zip(cells, pvals, qvals, strict=True):
        c = cur.get(k, 0)
        if q >= FDR or c < MIN_COUNT:
            continue
        weekly = base.get(k, 0) / BASELINE_WEEKS
        grid = grids[k[0]]
        result.hotspots.append(
            Hotspot(
                grid.code,
                grid.name,
                names[k[1]],
                c,
                weekly,
                c / weekly if weekly else float("inf"),
                p,
                float(q),
                grid.center_lat,
                grid.center_lon,
            )
        )
    result.hotspots.sort(key=lambda h: (h.q_value, -h.current))
    return result


# --- forecast ------------------------------------------------------------------------------


@dataclass
class Forecast:
    weeks_used: int
    alpha: float
    mae_model: float | None
    mae_last_week: float | None
    mae_mean4: float | None
    next_week: dict[str, float]  # grid code → forecast


def weekly_counts(
    region: Region, *, today: date | None = None, weeks: int = HISTORY_WEEKS
) -> tuple[list[date], dict[str, list[int]]]:
    """Reports per grid per full week (Monday–Sunday), oldest first, ending before this week."""
    today = today or _today()
    this_monday = today - timedelta(days=today.weekday())
    first = this_monday - timedelta(weeks=weeks)
    grids = {g.pk: g.code for g in grids_under(region)}
    counts = {code: [0] * weeks for code in grids.values()}
    rows = (
        CaseRollup.objects.filter(
            grain=Grain.DAY,
            dim=Dim.TOTAL,
            region_id__in=list(grids),
            bucket__gte=first,
            bucket__lt=this_monday,
        )
        .values_list("region_id", "bucket")
        .annotate(n=Sum("reported"))
        .order_by()
    )
    for grid_id, bucket, n in rows:
        counts[grids[grid_id]][(bucket - first).days // 7] += int(n or 0)
    return [first + timedelta(weeks=i) for i in range(weeks)], counts


def _ewma(series: list[int], alpha: float) -> float:
    level = float(series[0])
    for x in series[1:]:
        level = alpha * x + (1 - alpha) * level
    return level


def _mae(pairs: list[tuple[float, int]]) -> float | None:
    return None if not pairs else sum(abs(f - a) for f, a in pairs) / len(pairs)


def forecast_for(region: Region, *, today: date | None = None) -> Forecast:
    weeks, counts = weekly_counts(region, today=today)
    n = len(weeks)
    split = n - HELD_OUT_WEEKS

    # α from one-step errors on the older weeks only (weeks 4 … split-1).
    def err(alpha: float, lo: int, hi: int) -> float:
        pairs = [(_ewma(s[:t], alpha), s[t]) for s in counts.values() for t in range(lo, hi)]
        return _mae(pairs) or 0.0

    alpha = min(ALPHAS, key=lambda a: err(a, 4, split)) if split > 5 else 0.3
    model, last, mean4 = [], [], []
    for s in counts.values():
        for t in range(split, n):
            model.append((_ewma(s[:t], alpha), s[t]))
            last.append((float(s[t - 1]), s[t]))
            mean4.append((sum(s[t - 4 : t]) / 4, s[t]))
    return Forecast(
        weeks_used=n,
        alpha=alpha,
        mae_model=_mae(model),
        mae_last_week=_mae(last),
        mae_mean4=_mae(mean4),
        next_week={code: round(_ewma(s, alpha), 1) for code, s in counts.items()},
    )


CACHE_SECONDS = 3600
_VERSION = "analytics:hot:v:{}"
_EPOCH = "analytics:hot:epoch"
_DATA = "analytics:hot:d1:{}:{}:{}:{}"  # d1: the shape of the stored answer


def _token(key: str) -> str:
    token = cache.get(key)
    if token is None:
        cache.add(key, uuid4().hex, None)
        token = cache.get(key) or ""
    return str(token)


def _bump(region_ids: Iterable[int]) -> None:
    cache.set_many({_VERSION.format(pk): uuid4().hex for pk in set(region_ids)}, None)


def invalidate_all() -> None:
    """Every area's cached hotspots are stale (after a rollup rebuild or a bulk load)."""
    cache.set(_EPOCH, uuid4().hex, None)


def areas_changed(region_ids: Iterable[int]) -> None:
    """The rollups of these regions changed (called by the journal fold after its commit): their
    cached hotspots are stale. Case writes themselves do nothing here — the next read folds."""
    _bump(region_ids)


def hotspot_data(region: Region, *, today: date | None = None) -> dict[str, Any]:
    """The hotspots and forecast of ``region`` as JSON-ready data, from the cache when nothing
    under the area changed since they were computed (``computed_at`` says when)."""
    from .journal import fold_regions

    # Pending case writes first. The fold marks the areas it changed after its commit; marked
    # here too, before the key is read, for a caller inside a transaction (the mark is idempotent).
    _folded, changed = fold_regions()
    if changed:
        areas_changed(changed)
    today = today or _today()
    key = _DATA.format(
        region.pk, today.isoformat(), _token(_VERSION.format(region.pk)), _token(_EPOCH)
    )
    found = cache.get(key)
    if found is not None:
        return dict(found, cached=True)
    data = compute_hotspot_data(region, today=today)
    cache.set(key, data, CACHE_SECONDS)
    return dict(data, cached=False)


def compute_hotspot_data(region: Region, *, today: date | None = None) -> dict[str, Any]:
    h = hotspots_for(region, today=today)
    f = forecast_for(region, today=today)
    return {
        "computed_at": timezone.localtime(timezone.now(), SHANGHAI).strftime("%Y-%m-%d %H:%M:%S"),
        "summary": h.summary(),
        "hotspots": [
            {
                "grid": x.grid_code,
                "grid_name": x.grid_name,
                "matter": x.matter,
                "current": x.current,
                "baseline_weekly": round(x.baseline_weekly, 2),
                "ratio": None if x.ratio == float("inf") else round(x.ratio, 2),
                "p": x.p_value,
                "q": x.q_value,
                "lat": x.lat,
                "lon": x.lon,
                "text": x.text(),
            }
            for x in h.hotspots
        ],
        "forecast": {
            "alpha": f.alpha,
            "weeks": f.weeks_used,
            "held_out": HELD_OUT_WEEKS,
            "mae_model": f.mae_model,
            "mae_last_week": f.mae_last_week,
            "mae_mean4": f.mae_mean4,
            "next_week": f.next_week,
        },
    }
