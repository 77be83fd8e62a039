"""The matching engine: explainable scores for (service order, helper) pairs, a single-order
ranking and an optimal batch assignment under capacity limits.

Pure computation on plain data (no database): :mod:`wangge.party.services.matching` loads orders
and helpers and applies the result through the order workflow; the benchmark drives the same
functions on generated data.

Each pair gets five components in [0, 1], combined with weights that are data
(:class:`Weights`, overridable by ``settings.PARTY_MATCH_WEIGHTS``):

* specialty — 1 when the helper has the specialty the order's category needs, 0.5 when a related
  one (``RELATED_SPECIALTIES``), 0 otherwise. **A mismatch is never eligible**: it is left out of
  rankings and batch assignments alike.
* distance — 1 at the door, falling linearly to 0 at ``max_distance_km``; beyond it the pair is
  not eligible. Unknown positions score 0.5.
* availability — the share of the needed service time (the order's window, at most
  ``service_minutes``) that the helper's declared weekly slots cover.
* load — the free share of the helper's capacity; a helper at capacity is not eligible.
* rating — the helper's mean past rating with a prior of two 4-star ratings, over 5.

The batch problem — maximise the total score of assigned pairs, each order at most once, each
helper at most its free capacity — is a transportation problem. It is solved exactly by
``scipy.optimize.linear_sum_assignment`` on the score matrix with each helper's column repeated
once per free slot (ineligible pairs score 0, the same as leaving the order unassigned).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from django.utils.translation import gettext as _

from .choices import RELATED_SPECIALTIES, Specialty

CATEGORIES: list[str] = list(Specialty.values)
CAT_INDEX = {c: i for i, c in enumerate(CATEGORIES)}
HOURS_PER_WEEK = 168
LOCAL_TZ = ZoneInfo("Asia/Shanghai")
EARTH_KM = 6371.0088


@dataclass(frozen=True)
class Weights:
    specialty: float = 0.35
    distance: float = 0.20
    availability: float = 0.20
    load: float = 0.15
    rating: float = 0.10
    max_distance_km: float = 5.0
    service_minutes: int = 120  # the time a service needs inside the order's window
    rating_prior_n: float = 2.0
    rating_prior_mean: float = 4.0

    @classmethod
    def from_settings(cls) -> Weights:
        from django.conf import settings

        override = getattr(settings, "PARTY_MATCH_WEIGHTS", None) or {}
        known = {f.name for f in fields(cls)}
        return replace(cls(), **{k: v for k, v in override.items() if k in known})


COMPONENTS = ("specialty", "distance", "availability", "load", "rating")


@dataclass
class HelperData:
    key: str  # "member:12" / "volunteer:3"
    name: str
    specialties: Sequence[str]
    availability: Sequence[Sequence[int]]  # [[weekday, start_minute, end_minute], …]
    lon: float | None
    lat: float | None
    capacity: int
    load: int = 0
    rating_sum: float = 0.0
    rating_count: int = 0
    service_paths: Sequence[str] = ()  # region paths it serves ("" = anywhere)


@dataclass
class OrderData:
    key: int
    category: str
    window_start: datetime
    window_end: datetime
    lon: float | None
    lat: float | None
    region_path: str = ""


@dataclass
class Features:
    """Component matrices (orders × helpers) and the combined score."""

    specialty: np.ndarray
    distance_km: np.ndarray  # NaN where a position is unknown
    distance: np.ndarray
    availability: np.ndarray
    load: np.ndarray
    rating: np.ndarray
    in_area: np.ndarray  # bool: the helper serves the order's area
    total: np.ndarray
    eligible: np.ndarray  # bool


# --- vector building blocks ----------------------------------------------------------------------
def specialty_masks(specialties: Sequence[Sequence[str]]) -> tuple[np.ndarray, np.ndarray]:
    """Per helper: a bit mask of its specialties, and of the categories they partly fit."""
    has = np.zeros((len(specialties), len(CATEGORIES)), dtype=bool)
    for j, specs in enumerate(specialties):
        for s in specs:
            if s in CAT_INDEX:
                has[j, CAT_INDEX[s]] = True
    related = np.zeros_like(has)
    for cat, rel in RELATED_SPECIALTIES.items():
        idx = [CAT_INDEX[r] for r in rel]
        related[:, CAT_INDEX[cat]] = has[:, idx].any(axis=1)
    return has, related


def specialty_fit(categories: Sequence[str], specialties: Sequence[Sequence[str]]) -> np.ndarray:
    has, related = specialty_masks(specialties)
    per_cat = np.where(has, 1.0, np.where(related, 0.5, 0.0))  # helpers × categories
    cat_idx = np.array([CAT_INDEX.get(c, -1) for c in categories], dtype=int)
    out = per_cat[:, np.clip(cat_idx, 0, None)].T  # orders × helpers
    out[cat_idx < 0, :] = 0.0
    return out


def haversine_km(
    lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray
) -> np.ndarray:
    """Great-circle distances, orders (column vectors) × helpers (row vectors)."""
    p1, p2 = np.radians(lat1)[:, None], np.radians(lat2)[None, :]
    dphi = p2 - p1
    dl = np.radians(lon2)[None, :] - np.radians(lon1)[:, None]
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def weekly_hours(slots: Sequence[Sequence[int]]) -> np.ndarray:
    """A helper's declared slots as the covered fraction of each of the 168 hours of a week."""
    out = np.zeros(HOURS_PER_WEEK)
    for slot in slots:
        weekday, start, end = int(slot[0]), int(slot[1]), int(slot[2])
        if not 0 <= weekday <= 6 or not 0 <= start < end <= 1440:
            continue
        for hour in range(start // 60, math.ceil(end / 60)):
            lo, hi = max(start, hour * 60), min(end, hour * 60 + 60)
            if hi > lo:
                out[weekday * 24 + hour] = min(1.0, out[weekday * 24 + hour] + (hi - lo) / 60)
    return out


def window_hours(start: datetime, end: datetime, limit_minutes: int) -> np.ndarray:
    """Minutes of the order's window (local time) falling in each hour of the week, capped at a
    week. Returned with the needed minutes ``min(window, limit)`` as the last element."""
    out = np.zeros(HOURS_PER_WEEK + 1)
    s = start.astimezone(LOCAL_TZ)
    e = min(end.astimezone(LOCAL_TZ), s + timedelta(days=7))
    total = max(0.0, (e - s).total_seconds() / 60)
    cursor = s
    while cursor < e:
        hour_end = cursor.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        stop = min(hour_end, e)
        out[cursor.weekday() * 24 + cursor.hour] += (stop - cursor).total_seconds() / 60
        cursor = stop
    out[-1] = min(total, float(limit_minutes))
    return out


def area_mask(orders: Sequence[OrderData], helpers: Sequence[HelperData]) -> np.ndarray:
    """Whether each helper serves each order's area: its service paths are prefixes of the
    order's region path (a helper with no paths serves anywhere)."""
    mask = np.zeros((len(orders), len(helpers)), dtype=bool)
    by_path: dict[str, list[int]] = {}
    anywhere: list[int] = []
    for j, h in enumerate(helpers):
        if not h.service_paths:
            anywhere.append(j)
        for p in h.service_paths:
            by_path.setdefault(p, []).append(j)
    cache: dict[str, np.ndarray] = {}
    for i, o in enumerate(orders):
        row = cache.get(o.region_path)
        if row is None:
            row = np.zeros(len(helpers), dtype=bool)
            row[anywhere] = True
            parts = [p for p in o.region_path.strip("/").split("/") if p]
            for k in range(1, len(parts) + 1):
                prefix = "/" + "/".join(parts[:k]) + "/"
                row[by_path.get(prefix, [])] = True
            cache[o.region_path] = row
        mask[i] = row
    return mask


def features(
    orders: Sequence[OrderData],
    helpers: Sequence[HelperData],
    weights: Weights,
    *,
    in_area: np.ndarray | None = None,
) -> Features:
    n, m = len(orders), len(helpers)
    spec = specialty_fit([o.category for o in orders], [h.specialties for h in helpers])
    olon = np.array([np.nan if o.lon is None else o.lon for o in orders], dtype=float)
    olat = np.array([np.nan if o.lat is None else o.lat for o in orders], dtype=float)
    hlon = np.array([np.nan if h.lon is None else h.lon for h in helpers], dtype=float)
    hlat = np.array([np.nan if h.lat is None else h.lat for h in helpers], dtype=float)
    dist = haversine_km(olon, olat, hlon, hlat).reshape(n, m)
    known = ~np.isnan(dist)
    dist_score = np.where(known, np.clip(1 - dist / weights.max_distance_km, 0.0, 1.0), 0.5)
    within = ~known | (dist <= weights.max_distance_km)
    win = np.array(
        [window_hours(o.window_start, o.window_end, weights.service_minutes) for o in orders]
    ).reshape(n, HOURS_PER_WEEK + 1)
    week = np.array([weekly_hours(h.availability) for h in helpers]).reshape(m, HOURS_PER_WEEK)
    covered = win[:, :HOURS_PER_WEEK] @ week.T
    need = win[:, -1:]
    avail = np.where(need > 0, np.clip(covered / np.maximum(need, 1e-9), 0.0, 1.0), 0.0)
    cap = np.array([h.capacity for h in helpers], dtype=float)
    load = np.array([h.load for h in helpers], dtype=float)
    free = np.clip(cap - load, 0, None)
    load_score = np.broadcast_to(np.where(cap > 0, free / np.maximum(cap, 1), 0.0), (n, m))
    rsum = np.array([h.rating_sum for h in helpers], dtype=float)
    rcnt = np.array([h.rating_count for h in helpers], dtype=float)
    prior_n, prior = weights.rating_prior_n, weights.rating_prior_mean
    rating = np.broadcast_to((rsum + prior * prior_n) / (rcnt + prior_n) / 5.0, (n, m))
    if in_area is None:
        in_area = area_mask(orders, helpers)
    total = (
        weights.specialty * spec
        + weights.distance * dist_score
        + weights.availability * avail
        + weights.load * load_score
        + weights.rating * rating
    )
    eligible = (spec > 0) & within & (free > 0)[None, :] & in_area
    return Features(
        specialty=spec,
        distance_km=dist,
        distance=dist_score,
        availability=avail,
        load=np.array(load_score),
        rating=np.array(rating),
        in_area=in_area,
        total=total,
        eligible=eligible,
    )


# --- single-order ranking -------------------------------------------------------------------------
@dataclass
class Part:
    key: str
    label: str
    value: float  # 0..1
    weight: float
    points: float  # weight × value × 100
    detail: str


@dataclass
class Ranked:
    helper: HelperData
    score: float  # 0..100
    eligible: bool
    parts: list[Part] = field(default_factory=list)
    excluded_because: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "helper": self.helper.key,
            "name": self.helper.name,
            "score": round(self.score, 1),
            "eligible": self.eligible,
            "parts": [p.__dict__ for p in self.parts],
            "excluded_because": self.excluded_because,
        }


def _explain(f: Features, i: int, j: int, h: HelperData, w: Weights) -> Ranked:
    labels = {
        "specialty": _("特长匹配"),
        "distance": _("距离"),
        "availability": _("时间匹配"),
        "load": _("当前负荷"),
        "rating": _("历史评价"),
    }
    km = f.distance_km[i, j]
    spec = f.specialty[i, j]
    details = {
        "specialty": _("特长对口") if spec >= 1 else (_("相关特长") if spec > 0 else _("特长不符")),
        "distance": _("位置未知") if np.isnan(km) else _("相距%(km).1f公里") % {"km": km},
        "availability": _("申报时段覆盖需求时间的%(p)d%%")
        % {"p": round(100 * f.availability[i, j])},
        "load": _("在办%(load)d单，上限%(cap)d单") % {"load": h.load, "cap": h.capacity},
        "rating": _("%(n)d次评价，平均%(avg).1f分")
        % {"n": h.rating_count, "avg": (h.rating_sum / h.rating_count) if h.rating_count else 0}
        if h.rating_count
        else _("暂无评价（按%(p).1f分计）") % {"p": w.rating_prior_mean},
    }
    values = {
        "specialty": spec,
        "distance": f.distance[i, j],
        "availability": f.availability[i, j],
        "load": f.load[i, j],
        "rating": f.rating[i, j],
    }
    parts = [
        Part(
            key=k,
            label=str(labels[k]),
            value=round(float(values[k]), 3),
            weight=getattr(w, k),
            points=round(float(values[k]) * getattr(w, k) * 100, 1),
            detail=str(details[k]),
        )
        for k in COMPONENTS
    ]
    why: list[str] = []
    if spec <= 0:
        why.append(str(_("特长不符")))
    if not np.isnan(km) and km > w.max_distance_km:
        why.append(str(_("超出服务半径%(km)g公里") % {"km": w.max_distance_km}))
    if h.load >= h.capacity:
        why.append(str(_("已达接单上限")))
    if not f.in_area[i, j]:
        why.append(str(_("不在服务社区")))
    return Ranked(
        helper=h,
        score=float(f.total[i, j]) * 100,
        eligible=bool(f.eligible[i, j]),
        parts=parts,
        excluded_because=why,
    )


def rank(
    order: OrderData, helpers: Sequence[HelperData], weights: Weights
) -> tuple[list[Ranked], list[Ranked]]:
    """(eligible helpers best first, excluded helpers with reasons). A specialty mismatch is
    never eligible, so it never ranks first."""
    if not helpers:
        return [], []
    f = features([order], helpers, weights)
    all_ = [_explain(f, 0, j, h, weights) for j, h in enumerate(helpers)]
    ranked = sorted((r for r in all_ if r.eligible), key=lambda r: (-r.score, r.helper.key))
    excluded = sorted((r for r in all_ if not r.eligible), key=lambda r: (-r.score, r.helper.key))
    return ranked, excluded


# --- batch assignment -----------------------------------------------------------------------------
def optimal_assignment(
    score: np.ndarray, eligible: np.ndarray, free: np.ndarray
) -> list[tuple[int, int]]:
    """Pairs (order, helper) maximising the total score, each order at most once, helper ``j``
    at most ``free[j]`` times, eligible pairs only. Exact (see the module docstring)."""
    from scipy.optimize import linear_sum_assignment

    n, m = score.shape
    if n == 0 or m == 0:
        return []
    usable = eligible & (score > 0)
    # A helper needs no more copies than the orders it could take.
    reps = np.minimum(np.clip(free, 0, None).astype(int), usable.sum(axis=0))
    cols = np.flatnonzero(reps > 0)
    if cols.size == 0:
        return []
    rows = np.flatnonzero(usable[:, cols].any(axis=1))
    if rows.size == 0:
        return []
    expanded = np.repeat(cols, reps[cols])
    matrix = np.where(usable[np.ix_(rows, expanded)], score[np.ix_(rows, expanded)], 0.0)
    r, c = linear_sum_assignment(matrix, maximize=True)
    return sorted(
        (int(rows[a]), int(expanded[b])) for a, b in zip(r, c, strict=True) if matrix[a, b] > 0
    )


def greedy_assignment(
    score: np.ndarray, eligible: np.ndarray, free: np.ndarray
) -> list[tuple[int, int]]:
    """Baseline: take the best remaining eligible pair until nothing fits (one by one)."""
    usable = eligible & (score > 0)
    ii, jj = np.nonzero(usable)
    order = np.argsort(-score[ii, jj], kind="stable")
    left = np.clip(free, 0, None).astype(int).copy()
    taken = np.zeros(score.shape[0], dtype=bool)
    out: list[tuple[int, int]] = []
    for k in order:
        i, j = int(ii[k]), int(jj[k])
        if taken[i] or left[j] <= 0:
            continue
        taken[i] = True
        left[j] -= 1
        out.append((i, j))
    return sorted(out)


def free_capacity(helpers: Sequence[HelperData]) -> np.ndarray:
    return np.array([max(0, h.capacity - h.load) for h in helpers], dtype=int)


def total_score(score: np.ndarray, pairs: Sequence[tuple[int, int]]) -> float:
    return float(sum(score[i, j] for i, j in pairs))
