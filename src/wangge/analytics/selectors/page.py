"""The command centre's page data: ``dashboard_data`` (``data.json``) and ``map_data``
(``map.geojson``), each read in one statement whose text does not change between polls
(decisions 0008, 0023, 0024)."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, NamedTuple

from django.db import connection
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.cases.models import LIVE_STATES, Case, Department
from wangge.geo.choices import Level
from wangge.geo.models import Region

from .. import statements as stmt
from ..choices import Dim, Grain
from ..facts import MEASURES, midnight, month_starts
from ..indicators import compute, compute_one, fmt
from ..journal import fold
from ..models import (
    CaseRollup,
    RollupDelta,
)
from ..periods import Period
from .areas import children, grids_under
from .sums import indicator_values, labels, next_month, state_labels, translated

OVERDUE_LIST = 20
TOP_TYPES = 12

# --- the command centre's reads in few statements ------------------------------------------
# The dashboard and the map read the same numbers as the general selectors (``.sums``), but
# each reads in one plain SQL statement (the ORM's compilation of 22-sum aggregates cost more than
# the database's answer: issue 6, decision 0008 addendum) whose text does not change between
# polls, so PostgreSQL plans them once per connection (``statements``, decision 0024). The
# rollup statement also tells whether the journal holds pending case writes; only then does the
# page fold and read again (decision 0023: a reader sees every committed case write).

_ROLLUP = CaseRollup._meta.db_table
_CASE = Case._meta.db_table
_DEPT = Department._meta.db_table
_REGION = Region._meta.db_table
_JOURNAL = RollupDelta._meta.db_table


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _day(d: Any) -> Any:
    # Dates as dates on PostgreSQL: the server binds them (a string would be text).
    return d if connection.vendor == "postgresql" else connection.ops.adapt_datefield_value(d)


def _bucket_sql(period: Period, grain: str | None = None) -> tuple[str, list[Any]]:
    """``sums._bucket_filter`` as SQL (the same rows)."""
    sql, params = _bucket_sql_of(connection.vendor, stmt.prepared(), period, grain)
    return sql, list(params)


@functools.lru_cache(maxsize=256)
def _bucket_sql_of(
    _vendor: str, _prepared: bool, period: Period, grain: str | None
) -> tuple[str, tuple[Any, ...]]:
    # Kept per period (and per database kind, which decides the SQL): a poll builds no SQL.
    sql, params = _build_bucket_sql(period, grain)
    return sql, tuple(params)


def _build_bucket_sql(period: Period, grain: str | None) -> tuple[str, list[Any]]:
    month, day = stmt.literal(Grain.MONTH), stmt.literal(Grain.DAY)
    if grain == Grain.MONTH:
        overlapped = [_day(m) for m in month_starts(period.start, period.end)]
        months, months_p = stmt.any_of("bucket", overlapped)
        return f"(grain = {month} AND {months})", months_p
    days = f"(grain = {day} AND bucket >= %s AND bucket < %s)"
    if grain == Grain.DAY:
        return days, [_day(period.start), _day(period.end)]
    whole = [
        m
        for m in month_starts(period.start, period.end)
        if m >= period.start and next_month(m) <= period.end
    ]
    if not whole:
        return days, [_day(period.start), _day(period.end)]
    months, params = stmt.any_of("bucket", [_day(m) for m in whole])
    parts = [f"(grain = {month} AND {months})"]
    if period.start < whole[0]:
        parts.append(days)
        params += [_day(period.start), _day(whole[0])]
    tail = next_month(whole[-1])
    if tail < period.end:
        parts.append(days)
        params += [_day(tail), _day(period.end)]
    return f"({' OR '.join(parts)})", params


def _measure_cols(measures: tuple[str, ...], one_row: bool) -> str:
    """``measures`` as columns named after them: their sums (as bigint: the sum of a bigint
    column is numeric, which the driver would turn into ``Decimal``), or with ``one_row`` (each
    group is one row, a single bucket: no GROUP BY) the columns themselves."""
    if one_row:
        return ", ".join(_q(m) for m in measures)
    return ", ".join(f"CAST(SUM({_q(m)}) AS bigint) AS {_q(m)}" for m in measures)


def _group_by(columns: str, one_row: bool) -> str:
    return "" if one_row else f" GROUP BY {columns}"


def _single_month(period: Period) -> bool:
    """Whether ``period`` is one whole month: its total is one month row per region and its
    breakdowns one row per value (the rollup key is unique), so nothing needs summing."""
    start = period.start
    return start.day == 1 and next_month(start) == period.end


_TOTAL = stmt.literal(Dim.TOTAL)
_COUNTED = (Dim.STATE, Dim.TYPE, Dim.SOURCE)  # the page shows only their reported counts
_COUNTED_SQL = ", ".join(stmt.literal(d) for d in _COUNTED)
_MEASURE_COLS = ", ".join(_q(m) for m in MEASURES)
# What the department league table shows: its counts, 按期结案率 and 群众满意率.
_LEAGUE = ("filed", "closed", "closed_on_time", "rated", "satisfied")
_LEAGUE_COLS = ", ".join(f"x.{_q(m)}" for m in _LEAGUE)
_ZERO = dict.fromkeys(MEASURES, 0)


def _pending_branch(columns: int) -> str:
    """A union branch of ``columns`` columns with one row ('j', NULL, …) when the journal holds
    case writes not folded yet."""
    nulls = ", NULL" * (columns - 1)
    return f"SELECT 'j'{nulls} FROM (SELECT 1 FROM {_JOURNAL} LIMIT 1) j"  # noqa: S608 - identifiers are constants


def _read_folded(sql: str, params: list[Any]) -> list[Any]:
    """The rows of ``sql`` (a union with :func:`_pending_branch`) once nothing is pending: when
    the journal holds case writes, fold them and read again. The rows come from one snapshot,
    so rollups read with an empty journal include every case write committed before it."""
    for _attempt in range(2):
        with stmt.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if not any(row[0] == "j" for row in rows):
            return rows
        fold()
    return [row for row in rows if row[0] != "j"]  # writes still arriving: as of the fold


class PageReads(NamedTuple):
    """What the dashboard reads from the database for one area and period."""

    sums: dict[int, dict[str, int]]  # region id → total sums
    departments: dict[str, dict[str, int]]  # department id → the league's sums (_LEAGUE)
    department_names: dict[str, str]
    counts: dict[str, dict[str, int]]  # dim → value → reported (state, type, source)
    trend: list[list[Any]]  # [day (ISO date), reported, filed, closed], by day
    overdue_groups: list[tuple[str, int | None, int]]  # (area path, department id, count)
    overdue: list[tuple[datetime, int, str, str, str, str]]  # due, id, code, title, grid, state
    live_by_grid: dict[int, tuple[str, int, int]]  # grid id → (path, open now, overdue now)
    grids: list[tuple[int, str, int]]  # the active grids under the area: id, code, reported
    latest: int  # the latest case id in the area (0: none)


def _grid_branches(where: str) -> str:
    """Two branches of the page's and the map's statements: open and overdue now per grid of
    the live cases under the area ('n': the map's colours, the sub-areas' load), and each active
    grid under the area with its reports in the period ('r': the map's heat), for the period's
    rollup rows ``where``. Parameters: :func:`_grid_params`."""
    live = _live_sql("-")[0]  # the text only: the area's prefix is a parameter
    grids = stmt.starts_with("g.path", "-")[0]
    rows = stmt.json_rows
    return (
        f"SELECT 'n', {rows('grid_id, region_path, n, late')} FROM (SELECT grid_id, "  # noqa: S608 - identifiers are constants
        "region_path, COUNT(*) AS n, SUM(CASE WHEN due_at < %s THEN 1 ELSE 0 END) AS late "
        f"FROM {_CASE} WHERE {live} GROUP BY grid_id, region_path) x "
        f"UNION ALL SELECT 'r', {rows('id, code, reported')} FROM (SELECT g.id, g.code, "
        f"CAST(COALESCE(SUM(r.reported), 0) AS bigint) AS reported FROM {_REGION} g "
        f"LEFT JOIN {_ROLLUP} r ON r.region_id = g.id AND r.dim = {_TOTAL} AND {where} "
        f"WHERE g.level = {stmt.literal(Level.GRID)} AND g.is_active AND {grids} "
        "GROUP BY g.id, g.code) x"
    )


def _grid_params(now: datetime, where_p: Iterable[Any], path_p: list[Any]) -> list[Any]:
    return [now, *path_p, *where_p, *path_p]


def _grid_numbers(
    got: dict[str, Any],
) -> tuple[dict[int, tuple[str, int, int]], list[tuple[int, str, int]]]:
    """The rows of :func:`_grid_branches`: grid id → (path, open, overdue) and the grids'
    (id, code, reported)."""
    live = {g: (p, n, int(late or 0)) for g, p, n, late in _json(got["n"])}
    return live, [(g, code, n) for g, code, n in _json(got["r"])]


@functools.lru_cache(maxsize=256)
def _page_sql(
    _vendor: str, _prepared: bool, period: Period, grid: bool, n_ids: int
) -> tuple[str, tuple[Any, ...], tuple[Any, ...], tuple[Any, ...]]:
    """:func:`page_reads`' statement and the parameters that depend on the period, kept per
    period and database kind (and on SQLite the number of region ids, an ``IN`` list): a poll
    builds no SQL."""
    where, where_p = _bucket_sql(period)
    months, months_p = _bucket_sql(period, Grain.MONTH)
    days, days_p = _bucket_sql(period, Grain.DAY)
    ids = stmt.any_of("region_id", [0] * n_ids)[0]
    live = _live_sql("-", "c.")[0]  # the text only: the area's prefix is a parameter
    groups_live = _live_sql("-")[0]
    latest = "grid_id = %s" if grid else stmt.starts_with(_q("region_path"), "-")[0]
    one = _single_month(period)
    rows = stmt.json_rows
    sql = (
        f"SELECT 's', {rows('region_id, ' + _MEASURE_COLS)} FROM (SELECT region_id, "  # noqa: S608 - identifiers are constants
        f"{_measure_cols(MEASURES, one)} FROM {_ROLLUP} WHERE {where} AND {ids} "
        f"AND dim = {_TOTAL}{_group_by('region_id', one)}) x "
        f"UNION ALL SELECT 'd', {rows('x.value, d.name, ' + _LEAGUE_COLS)} FROM (SELECT value, "
        f"{_measure_cols(_LEAGUE, one)} FROM {_ROLLUP} WHERE {months} AND region_id = %s "
        f"AND dim = {stmt.literal(Dim.DEPT)}{_group_by('value', one)}) x "
        f"LEFT JOIN {_DEPT} d ON CAST(d.id AS varchar(32)) = x.value "
        f"UNION ALL SELECT 'c', {rows('dim, value, reported')} FROM (SELECT dim, value, "
        f"{_measure_cols(('reported',), one)} FROM {_ROLLUP} WHERE {months} AND region_id = %s "
        f"AND dim IN ({_COUNTED_SQL}){_group_by('dim, value', one)}) x "
        f"UNION ALL SELECT 't', {rows('bucket, reported, filed, closed')} FROM {_ROLLUP} "
        f"WHERE {days} AND region_id = %s AND dim = {_TOTAL} "
        f"UNION ALL SELECT 'o', {rows('tracking_code, title, name, state, id, due_at')} FROM "
        f"(SELECT c.tracking_code, c.title, g.name, c.state, c.id, c.due_at FROM {_CASE} c "
        f"INNER JOIN {_REGION} g ON g.id = c.grid_id WHERE {live} AND c.due_at < %s "
        f"ORDER BY c.due_at, c.id LIMIT {OVERDUE_LIST}) x "
        f"UNION ALL SELECT 'g', {rows('region_path, department_id, n')} FROM (SELECT "
        f"region_path, department_id, COUNT(*) AS n FROM {_CASE} WHERE {groups_live} "
        "AND due_at < %s AND reported_at >= %s AND reported_at < %s "
        "GROUP BY region_path, department_id) x "
        f"UNION ALL {_grid_branches(where)} "
        f"UNION ALL SELECT 'l', CAST((SELECT id FROM {_CASE} WHERE {latest} ORDER BY id DESC "
        "LIMIT 1) AS varchar(20)) "
        f"UNION ALL {_pending_branch(2)}"
    )
    return sql, tuple(where_p), tuple(months_p), tuple(days_p)


def page_reads(region: Region, region_ids: list[int], period: Period, now: datetime) -> PageReads:
    """Everything the dashboard reads, in one statement (``UNION ALL``) from one snapshot:

    * from the rollups — :func:`sums_by_region` of ``region_ids``; :func:`breakdowns` of
      ``region`` by department (the league's measures, with the departments' names) and — the
      reported counts only — by state, type and source; its :func:`trend` (reported, filed,
      closed);
    * from the live cases — the period's overdue cases per (area path, department) as
      :func:`overdue_groups`; the :data:`OVERDUE_LIST` most overdue cases (any report date);
      the open and overdue cases now per grid (the map's colours, the sub-areas' load); the
      latest case id;
    * each active grid under the area with its reports in the period (the map's heat).

    Each branch answers one row, its rows as a JSON array (text): the driver converts a few
    strings instead of hundreds of rows of two dozen columns (decision 0024, second addendum). Folds
    pending case writes first (:func:`_read_folded`)."""
    grid = region.level == Level.GRID
    sql, where_p, months_p, days_p = _page_sql(
        connection.vendor, stmt.prepared(), period, grid, len(region_ids)
    )
    ids_p = stmt.any_of("region_id", region_ids)[1]
    path_p = stmt.starts_with("region_path", region.path)[1]
    params = [
        *where_p, *ids_p,
        *months_p, region.pk,
        *months_p, region.pk,
        *days_p, region.pk,
        *path_p, now,
        *path_p, now, midnight(period.start), midnight(period.end),
        *_grid_params(now, where_p, path_p),
        *([region.pk] if grid else path_p),
    ]  # fmt: skip
    got = dict(_read_folded(sql, params))
    live_by_grid, grids = _grid_numbers(got)
    sums = {pk: dict(_ZERO) for pk in region_ids}
    for pk, *vec in _json(got["s"]):
        sums[pk] = dict(zip(MEASURES, vec, strict=True))
    departments: dict[str, dict[str, int]] = {}
    names: dict[str, str] = {}
    for value, name, *vec in _json(got["d"]):
        departments[value] = dict(zip(_LEAGUE, vec, strict=True))
        names[value] = name or value
    counts: dict[str, dict[str, int]] = {d: {} for d in _COUNTED}
    for dim, value, n in _json(got["c"]):
        counts[dim][value] = n
    trend = sorted(_json(got["t"]))
    overdue = sorted(
        (_aware(due), pk, code, title, grid, state)
        for code, title, grid, state, pk, due in _json(got["o"])
    )
    return PageReads(
        sums,
        departments,
        names,
        counts,
        trend,
        [(p, d, n) for p, d, n in _json(got["g"])],
        overdue,
        live_by_grid,
        grids,
        int(got["l"] or 0),
    )


def _json(payload: str | None) -> list[Any]:
    """A branch's rows (PostgreSQL answers NULL for an aggregate over no rows)."""
    return json.loads(payload) if payload else []


def map_numbers(
    region: Region, period: Period, now: datetime
) -> tuple[dict[int, int], dict[int, tuple[int, int]]]:
    """The map's numbers in one statement, the same branches as the page's
    (:func:`_grid_branches`): the reported count of each active grid under ``region`` and
    (open, overdue) now per grid of its live cases. Folds first."""
    where, where_p = _bucket_sql(period)
    path_p = stmt.starts_with("region_path", region.path)[1]
    sql = f"{_grid_branches(where)} UNION ALL {_pending_branch(2)}"
    live, grids = _grid_numbers(dict(_read_folded(sql, _grid_params(now, where_p, path_p))))
    reported = {pk: n for pk, _code, n in grids}
    return reported, {pk: (n, late) for pk, (_p, n, late) in live.items()}


_LIVE = f"{_q('state')} IN ({', '.join(stmt.literal(s) for s in LIVE_STATES)})"


def _live_sql(path: str, alias: str = "") -> tuple[str, list[Any]]:
    """The live cases under ``path`` as :func:`overdue_cases` says it: the live states inlined
    (a generic plan sees that the partial index ``case_live_path`` covers them) and the path
    prefix as a range, which that index serves."""
    prefix, params = stmt.starts_with(f"{alias}{_q('region_path')}", path)
    return f"{alias}{_LIVE} AND {prefix}", params


def _aware(value: str) -> datetime:
    """A timestamp from a JSON branch: ISO text, with its offset on PostgreSQL (the connection
    is on UTC), naive UTC on SQLite (as Django stores it)."""
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


_PK_MARK = 987654321987


def _counted(dim: str, counts: dict[str, int], top: int | None = None) -> list[dict[str, Any]]:
    """The non-zero ``counts`` with their labels, largest first (ties by label); past ``top``
    the rest as one "其他" row. Only the rows shown are labelled."""
    items = [(n, v) for v, n in counts.items() if n]
    rest = 0
    if top is not None and len(items) > top:
        items.sort(reverse=True)
        cut = items[top - 1][0]  # the top rows are among those counting at least this much
        rest = sum(n for n, _v in items)
        items = [item for item in items if item[0] >= cut]
    names = labels(dim, [v for _n, v in items])
    rows: list[dict[str, Any]] = sorted(
        ({"value": v, "label": names[v], "n": n} for n, v in items),
        key=lambda r: (-r["n"], r["label"]),
    )
    if top is not None and rest:
        rows = rows[:top]
        rows.append({"value": "", "label": _("其他"), "n": rest - sum(r["n"] for r in rows)})
    return rows


def dashboard_data(
    user: Any, region: Region, period: Period, *, now: datetime | None = None
) -> dict[str, Any]:
    """Everything the command-centre page draws, as JSON-ready data."""
    now = now or timezone.now()
    base = _reverse("analytics:dashboard")
    kids = children(region)
    # One statement; it folds pending case writes first.
    reads = page_reads(region, [region.pk, *(k.pk for k in kids)], period, now)
    kid_sums, overdue_rows = reads.sums, reads.overdue_groups
    overdue_total = sum(n for _p, _d, n in overdue_rows)
    head = {
        "sums": kid_sums[region.pk],
        "overdue": overdue_total,
        "indicators": indicator_values(kid_sums[region.pk], overdue_total),
    }
    kid_overdue = _per_area(kids, overdue_rows)
    kid_open = _per_area(kids, [(p, n) for p, n, _late in reads.live_by_grid.values()])
    dept_overdue: dict[Any, int] = {}
    for _p, dept, n in overdue_rows:
        dept_overdue[dept] = dept_overdue.get(dept, 0) + n
    sub_areas = []
    for k in kids:
        values = compute(kid_sums[k.pk], kid_overdue[k.pk])
        sub_areas.append(
            {
                "code": k.code,
                "name": k.name,
                "level": k.level,
                "reported": kid_sums[k.pk]["reported"],
                "closed": kid_sums[k.pk]["closed"],
                "open_now": kid_open[k.pk],
                "overdue": kid_overdue[k.pk],
                "close_rate": values["close_rate"],
                "satisfaction": values["satisfaction"],
                "url": _dashboard_url(k.code, period.label, base),
            }
        )
    league: list[dict[str, Any]] = []
    for value, s in reads.departments.items():
        od = dept_overdue.get(int(value), 0) if value.isdigit() else 0
        v = {code: compute_one(code, s, od) for code in ("on_time_close_rate", "satisfaction")}
        league.append(
            {
                "id": value,
                "name": reads.department_names[value],
                "filed": s["filed"],
                "closed": s["closed"],
                "overdue": od,
                "on_time_close_rate": v["on_time_close_rate"],
                "satisfaction": v["satisfaction"],
                "display": {
                    "on_time_close_rate": fmt("on_time_close_rate", v["on_time_close_rate"]),
                    "satisfaction": fmt("satisfaction", v["satisfaction"]),
                },
            }
        )
    league.sort(key=lambda r: (-(r["on_time_close_rate"] or 0), -(r["closed"]), r["name"]))
    days = reads.trend
    return {
        "area": {
            "code": region.code,
            "name": region.name,
            "level": region.level,
            "level_label": _level_label(region.level),
        },
        "period": period.label,
        "generated_at": timezone.localtime(now).strftime("%Y-%m-%d %H:%M:%S"),
        "latest_case": reads.latest,
        "indicators": head["indicators"],
        "totals": head["sums"],
        "overdue_total": head["overdue"],
        "by_state": _counted(Dim.STATE, reads.counts[Dim.STATE]),
        "by_type": _counted(Dim.TYPE, reads.counts[Dim.TYPE], TOP_TYPES),
        "by_source": _counted(Dim.SOURCE, reads.counts[Dim.SOURCE]),
        "sub_areas": sub_areas,
        "trend": {
            "days": [d for d, *_n in days],
            "reported": [n for _d, n, _f, _c in days],
            "filed": [f for _d, _n, f, _c in days],
            "closed": [c for _d, _n, _f, c in days],
        },
        "departments": league,
        "overdue": _overdue_list(reads.overdue),
        # The map's numbers per grid code: open and overdue now, reported in the period (the
        # page polls these; the polygons come once from map.geojson).
        "grids": {
            code: [*reads.live_by_grid.get(pk, ("", 0, 0))[1:], reported]
            for pk, code, reported in reads.grids
        },
    }


def _per_area(regions: list[Region], rows: Iterable[tuple[Any, ...]]) -> dict[int, int]:
    """The counts of ``rows`` (area path first, count last) summed per region of ``regions``
    that the path lies in."""
    out = dict.fromkeys((r.pk for r in regions), 0)
    for path, *_rest, n in rows:
        for r in regions:
            if path.startswith(r.path):
                out[r.pk] += n
                break
    return out


def _overdue_list(rows: list[tuple[datetime, int, str, str, str, str]]) -> list[dict[str, Any]]:
    states = state_labels()
    tz = timezone.get_current_timezone()
    url = _reverse("cases:detail", _PK_MARK)
    return [
        {
            "code": code,
            "title": title,
            "grid": grid,
            "state": states.get(state, state),
            "due_at": due.astimezone(tz).strftime("%Y-%m-%d %H:%M") if due else "",
            "url": url.replace(str(_PK_MARK), str(pk)),
        }
        for due, pk, code, title, grid, state in rows
    ]


def _level_label(level: str) -> str:
    labels: dict[str, str] = translated("level")
    return labels.get(level, level)


def _dashboard_url(code: str, period: str, base: str | None = None) -> str:
    return f"{base or _reverse('analytics:dashboard')}?area={code}&period={period}"


def _reverse(name: str, *args: Any) -> str:
    """``reverse`` kept per process (for the URL configuration and script prefix in force): the
    page links every sub-area and overdue case on each poll."""
    return _reversed(name, args, get_script_prefix(), get_urlconf())


@functools.lru_cache(maxsize=64)
def _reversed(name: str, args: tuple[Any, ...], _prefix: str, _urlconf: Any) -> str:
    return reverse(name, args=args)


_SHAPES: dict[tuple[int, int, Any], Any] = {}
SHAPES_KEPT = 20_000


def boundaries(regions: list[Region]) -> dict[int, Any]:
    """The boundary GeoJSON of ``regions`` (loaded with ``defer("boundary")``), kept in the
    process by (id, version, updated_at): the map's polygons are a constant, not re-read per
    request. An edited region has a new ``updated_at`` and is read again."""
    key = {r.pk: (r.pk, r.version, r.updated_at) for r in regions}
    out = {pk: _SHAPES[k] for pk, k in key.items() if k in _SHAPES}
    missing = [pk for pk in key if pk not in out]
    if missing:
        if len(_SHAPES) + len(missing) > SHAPES_KEPT:
            _SHAPES.clear()
        for pk, version, updated, shape in Region.objects.filter(pk__in=missing).values_list(
            "pk", "version", "updated_at", "boundary"
        ):
            _SHAPES[(pk, version, updated)] = out[pk] = shape
    return out


def map_data(region: Region, period: Period, *, now: datetime | None = None) -> dict[str, Any]:
    """GeoJSON for the command-centre map: the grids under ``region`` (choropleth: open load and
    overdue now, reported in the period) and the sub-areas to drill into; heat points are the
    grid centres weighted by the period's reports."""
    now = now or timezone.now()
    base = _reverse("analytics:dashboard")
    # A grid's map is the grid itself (``grids_under``), already loaded.
    grids = [region] if region.level == Level.GRID else list(grids_under(region).defer("boundary"))
    shapes = boundaries(grids)
    grid_reported, live = map_numbers(region, period, now)  # folds
    features = []
    heat = []
    for g in grids:
        reported = grid_reported.get(g.pk, 0)
        if shapes.get(g.pk):
            features.append(
                {
                    "type": "Feature",
                    "geometry": shapes[g.pk],
                    "properties": {
                        "layer": "grid",
                        "code": g.code,
                        "name": g.name,
                        "open": live.get(g.pk, (0, 0))[0],
                        "overdue": live.get(g.pk, (0, 0))[1],
                        "reported": reported,
                        "url": _dashboard_url(g.code, period.label, base),
                        # For the heat of polled numbers (data.json's "grids").
                        "center": (
                            [g.center_lat, g.center_lon]
                            if g.center_lat is not None and g.center_lon is not None
                            else None
                        ),
                    },
                }
            )
        if reported and g.center_lat is not None and g.center_lon is not None:
            heat.append([g.center_lat, g.center_lon, reported])
    kids = children(region)
    kid_shapes = boundaries(kids)
    for k in kids:
        if kid_shapes.get(k.pk) and k.level != Level.GRID:
            features.append(
                {
                    "type": "Feature",
                    "geometry": kid_shapes[k.pk],
                    "properties": {
                        "layer": "area",
                        "code": k.code,
                        "name": k.name,
                        "url": _dashboard_url(k.code, period.label, base),
                    },
                }
            )
    if region.boundary:
        features.append(
            {
                "type": "Feature",
                "geometry": region.boundary,
                "properties": {"layer": "self", "code": region.code, "name": region.name},
            }
        )
    return {"type": "FeatureCollection", "features": features, "heat": heat}
