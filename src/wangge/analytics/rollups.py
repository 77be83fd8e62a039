"""Keeping ``CaseRollup`` in step with the cases, and rebuilding it from the raw cases.

Incremental: the case services emit ``case.created`` / ``case.transitioned`` inside their
transaction; the handlers below turn the change into a delta of measures per rollup key
(:func:`facts.delta`) and append it to the journal (:mod:`.journal`: one insert, no shared row
locked in the case's transaction). Readers and a periodic job fold the journal into the rollups
with ``INSERT … ON CONFLICT DO UPDATE SET n = n + excluded.n`` (the same statement on SQLite and
PostgreSQL). A transition also reads the case's dispatch counts from its timeline (one indexed
query), and the suspension periods when the handling interval changed.

Rebuild: every case's measures are staged in a temporary table and aggregated by SQL into the
rollup keys; the result is compared with the stored rollups (differences are reported) and, when
they differ, replaces them in the same transaction. On PostgreSQL the staging is one
``INSERT … SELECT`` over the case table (only cases with suspension periods go through Python),
each grid's own keys are one ``GROUP BY`` each over the stage, and every level of the region tree
is then summed into its parents, deepest first (:func:`_aggregate_pg`). On SQLite every case
goes through Python and each key kind is grouped over the stage joined to the ancestors."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db import DatabaseError, connection, transaction
from django.db.models import Count

from wangge.cases.deadlines import load_calendar

from . import journal
from .choices import Dim, Grain
from .facts import (
    DISPATCH_ACTIONS,
    MEASURES,
    MISDISPATCH_ACTIONS,
    CaseFacts,
    Key,
    WorkClock,
    delta,
    facts_of,
    local_day,
    suspended_within,
    vector,
)
from .models import CaseRollup

log = logging.getLogger(__name__)
TABLE = CaseRollup._meta.db_table
KEY_COLUMNS = ("grain", "bucket", "region_id", "dim", "value")
CONFLICT = "region_id, grain, dim, bucket, value"  # the uniq_rollup_key2 constraint


_clocks: dict[Any, WorkClock] = {}


def clock() -> WorkClock:
    """A working-time clock on the deployment's calendar, kept while the calendar (periods and
    local overrides) stays the same."""
    calendar = load_calendar()
    key = (calendar.periods, tuple(sorted(calendar.overrides.items())))
    found = _clocks.get(key)
    if found is None:
        _clocks.clear()
        found = _clocks[key] = WorkClock(calendar)
    return found


def _upsert_sql(rows: int) -> str:
    cols = (*KEY_COLUMNS, *MEASURES)
    one = "(" + ", ".join(["%s"] * len(cols)) + ")"
    return (
        f"INSERT INTO {TABLE} ({', '.join(cols)}) VALUES {', '.join([one] * rows)} "  # noqa: S608 - identifiers are constants
        f"ON CONFLICT ({CONFLICT}) DO UPDATE SET {_SETS}"
    )


_SETS = ", ".join(f"{m} = {TABLE}.{m} + excluded.{m}" for m in MEASURES)
_PG_TYPES = ("text", "date", "bigint", "text", "text", *(["bigint"] * len(MEASURES)))
# PostgreSQL: one statement text for any number of rows (one array per column), so neither
# psycopg nor the server parses a new statement per batch size.
_UNNEST_SQL = (
    f"INSERT INTO {TABLE} ({', '.join((*KEY_COLUMNS, *MEASURES))}) "  # noqa: S608 - identifiers are constants
    f"SELECT * FROM unnest({', '.join(f'%s::{t}[]' for t in _PG_TYPES)}) "
    f"ON CONFLICT ({CONFLICT}) DO UPDATE SET {_SETS}"
)
CHUNK = 500  # rows per statement (SQLite allows 32,766 parameters; 27 per row)


def apply_delta(rows: dict[Key, list[int]]) -> int:
    """Add ``rows`` to the rollups (one statement per ``CHUNK`` rows); returns the number of
    keys touched. Keys are sorted, so concurrent folders lock shared rows in the same order."""
    if not rows:
        return 0
    items = sorted(rows.items())
    with connection.cursor() as cursor:
        for start in range(0, len(items), CHUNK):
            part = items[start : start + CHUNK]
            if connection.vendor == "postgresql":
                columns = list(zip(*((*key, *vec) for key, vec in part), strict=True))
                cursor.execute(_UNNEST_SQL, [list(c) for c in columns])
            else:
                params: list[Any] = []
                for key, vec in part:
                    params.extend(key)
                    params.extend(vec)
                cursor.execute(_upsert_sql(len(part)), params)
    return len(rows)


# --- incremental ---------------------------------------------------------------------------


def _history(case_id: int) -> tuple[int, int]:
    """(dispatches, misdispatches) in the case's timeline so far."""
    from wangge.cases.models import CaseEvent

    counts = dict(
        CaseEvent.objects.filter(case_id=case_id, action__in=DISPATCH_ACTIONS | MISDISPATCH_ACTIONS)
        .values_list("action")
        .annotate(n=Count("id"))
        .order_by()
    )
    dispatches = sum(n for a, n in counts.items() if a in DISPATCH_ACTIONS)
    misdispatches = sum(n for a, n in counts.items() if a in MISDISPATCH_ACTIONS)
    return dispatches, misdispatches


def on_case_created(*, case: Any, **_: Any) -> None:
    journal.record(delta(None, facts_of(case), clock()))


def on_case_transitioned(*, case: Any, previous: Any, action: str, **_: Any) -> None:
    from wangge.cases.models import Suspension

    dispatches, misdispatches = _history(case.pk)
    after = facts_of(case, dispatches=dispatches, misdispatches=misdispatches)
    before = facts_of(
        previous,
        dispatches=dispatches - int(action in DISPATCH_ACTIONS),
        misdispatches=misdispatches - int(action in MISDISPATCH_ACTIONS),
    )
    both = (previous.dispatched_at, previous.handled_at), (case.dispatched_at, case.handled_at)
    # Whenever either side has a handling interval: even an unchanged interval must be
    # measured, because a state change moves the case's handle_seconds between the ``state``
    # rows, and the row it leaves holds them net of the suspended time.
    if all(both[0]) or all(both[1]):
        periods = list(
            Suspension.objects.filter(case_id=case.pk).values_list("started_at", "ended_at")
        )
        if periods:
            c = clock()
            before.suspended_seconds = suspended_within(periods, *both[0], c)
            after.suspended_seconds = suspended_within(periods, *both[1], c)
    journal.record(delta(before, after, clock()))


def connect() -> None:
    from wangge.core import events

    events.subscribe("case.created", on_case_created)
    events.subscribe("case.transitioned", on_case_transitioned)


# --- rebuild -------------------------------------------------------------------------------

STAGE = "analytics_stage"
REBUILT = "analytics_rebuilt"
ANCESTORS = "analytics_anc"
STAGE_KEYS = ("grid_id", "day", "month", "mt", "source", "state", "dept", "worker")


@dataclass
class RebuildResult:
    cases: int = 0
    rows: int = 0
    missing: int = 0  # rows the rebuild has that the stored rollups lack or differ in
    extra: int = 0  # stored rows (non-zero) the rebuild does not produce
    samples: list[str] = field(default_factory=list)
    replaced: bool = False

    @property
    def differs(self) -> bool:
        return bool(self.missing or self.extra)


def _case_rows(only: Any = None) -> Iterator[dict[str, Any]]:
    from wangge.cases.models import Case

    fields = [f for f in CaseFacts.__dataclass_fields__ if f not in _HISTORY]
    qs = Case.objects.order_by("id")
    if only is not None:
        qs = qs.filter(pk__in=only)
    return qs.values("id", *fields).iterator(chunk_size=5000)


_HISTORY = ("dispatches", "misdispatches", "suspended_seconds")


def _event_counts() -> Iterator[tuple[int, int, int]]:
    """(case id, dispatches, misdispatches) for cases that have any, ordered by case id."""
    from wangge.cases.models import CaseEvent

    rows = (
        CaseEvent.objects.filter(action__in=DISPATCH_ACTIONS | MISDISPATCH_ACTIONS)
        .values_list("case_id", "action")
        .annotate(n=Count("id"))
        .order_by("case_id")
        .iterator(chunk_size=5000)
    )
    current, d, m = None, 0, 0
    for case_id, action, n in rows:
        if case_id != current:
            if current is not None:
                yield current, d, m
            current, d, m = case_id, 0, 0
        d += n if action in DISPATCH_ACTIONS else 0
        m += n if action in MISDISPATCH_ACTIONS else 0
    if current is not None:
        yield current, d, m


def _suspensions() -> dict[int, list[tuple[Any, Any]]]:
    from wangge.cases.models import Suspension

    out: dict[int, list[tuple[Any, Any]]] = {}
    for case_id, s, e in Suspension.objects.values_list(
        "case_id", "started_at", "ended_at"
    ).order_by("case_id", "started_at"):
        out.setdefault(case_id, []).append((s, e))
    return out


def staged_rows(c: WorkClock, only: Any = None) -> Iterator[tuple[Any, ...]]:
    """One tuple per case (of ``only``, a queryset of case ids, if given): its stage keys and
    measure vector, computed in Python by :func:`facts.vector`."""
    counts = _event_counts()
    pending = next(counts, None)
    suspensions = _suspensions()
    for row in _case_rows(only):
        pk = row.pop("id")
        while pending is not None and pending[0] < pk:
            pending = next(counts, None)
        d = m = 0
        if pending is not None and pending[0] == pk:
            d, m = pending[1], pending[2]
        f = CaseFacts(**row, dispatches=d, misdispatches=m)
        if pk in suspensions:
            f.suspended_seconds = suspended_within(
                suspensions[pk], f.dispatched_at, f.handled_at, c
            )
        day = local_day(f.reported_at)
        yield (
            f.grid_id,
            day,
            day.replace(day=1),
            str(f.matter_type_id or 0),
            f.source,
            f.state,
            str(f.department_id or ""),
            str(f.assignee_id or ""),
            *vector(f, c),
        )


CALENDAR = "analytics_cal"


def _suspended_case_ids() -> Any:
    from wangge.cases.models import Suspension

    return Suspension.objects.values("case_id")


def _calendar_rows(cursor: Any, c: WorkClock) -> int:
    """Stage the clock's cumulative working seconds per day over every day a case instant falls
    on, so SQL can compute :meth:`WorkClock.between` with the same float arithmetic."""
    from wangge.cases.models import Case

    table = Case._meta.db_table
    instants = ("reported_at", "accepted_at", "dispatched_at", "handled_at")
    tz = str(c.tz)
    lo = ", ".join(f"MIN({f})" for f in instants)
    cursor.execute(f"SELECT {lo} FROM {table}")  # noqa: S608 - identifiers are constants
    lows = [v for v in cursor.fetchone() if v is not None]
    hi = ", ".join(f"MAX({f})" for f in instants)
    cursor.execute(f"SELECT {hi} FROM {table}")  # noqa: S608 - identifiers are constants
    highs = [v for v in cursor.fetchone() if v is not None]
    cursor.execute(f"DROP TABLE IF EXISTS {CALENDAR}")
    cursor.execute(
        f"CREATE TEMPORARY TABLE {CALENDAR} (day date PRIMARY KEY, cum double precision, "
        "work boolean)"
    )
    if not lows:
        return 0
    first = min(v.astimezone(c.tz).date() for v in lows)
    last = max(v.astimezone(c.tz).date() for v in highs)
    c._index(first)  # anchor the clock at or before the first day (as the Python path does)
    rows = []
    day = first
    while day <= last:
        i = c._index(day)
        rows.append((day, float(c._cum[i]), c._workday[i]))
        day += timedelta(days=1)
    assert tz  # the clock's time zone names the local day in SQL
    return _copy_rows(cursor, CALENDAR, ("day", "cum", "work"), iter(rows))


# The case instants whose working-time ordinals the rebuild needs, by calendar-row alias.
INSTANTS = {"cr": "reported_at", "ca": "accepted_at", "cd": "dispatched_at", "ch": "handled_at"}


def _tod_sql(local: str) -> str:
    """Seconds into the day of the local timestamp ``local`` as ``WorkClock.ordinal`` computes
    them (``hour * 3600 + minute * 60 + second`` exactly, plus ``microsecond / 1e6``), in float8
    (``date_part`` is float8; ``EXTRACT`` would compute in numeric, several times slower)."""
    us = f"date_part('microseconds', {local})"  # second * 1e6 + microsecond, exact in float8
    sec = f"floor({us} / 1000000::float8)"
    whole = f"(date_part('hour', {local}) * 3600::float8 + date_part('minute', {local}) * 60::float8 + {sec})"  # noqa: E501
    return f"({whole} + (({us} - {sec} * 1000000::float8) / 1000000::float8))"


def _ordinal_sql(alias: str, c: WorkClock) -> str:
    """SQL for ``WorkClock.ordinal`` of the instant ``INSTANTS[alias]``, given its calendar row
    ``alias`` and its seconds of day ``t.tod_<alias>``: the same IEEE double operations in the
    same order (so ``round`` agrees bit for bit)."""
    tod = f"t.tod_{alias}"
    out = f"{alias}.cum"
    for a, b in c.periods:
        out = (
            f"({out} + CASE WHEN {alias}.work AND {tod} > {a} "
            f"THEN LEAST({tod}, {b}::float8) - {a}::float8 ELSE 0::float8 END)"
        )
    return out


def _between_sql(sa: str, ea: str, c: WorkClock) -> str:
    """SQL for ``WorkClock.between`` of two case instants (``round`` on float8 is half-to-even in
    PostgreSQL, like Python's)."""
    start, end = f"k.{INSTANTS[sa]}", f"k.{INSTANTS[ea]}"
    return (
        f"CASE WHEN {end} <= {start} THEN 0 ELSE GREATEST(0, ROUND("
        f"{_ordinal_sql(ea, c)} - {_ordinal_sql(sa, c)})::bigint) END"
    )


def _stage_select_sql(c: WorkClock) -> str:
    """A SELECT of the stage columns of every case without suspension periods (PostgreSQL): the
    measures of :func:`facts.vector` as SQL expressions, dispatch counts from the timeline,
    working seconds from the calendar table (:func:`_calendar_rows` must have filled it)."""
    from wangge.cases.models import Case, CaseEvent, Suspension

    from .facts import _CLOSED, _OPEN, SATISFIED_FROM

    cases = Case._meta.db_table
    events = CaseEvent._meta.db_table
    suspensions = Suspension._meta.db_table

    def strs(values: Any) -> str:
        return ", ".join(f"'{v}'" for v in sorted(values))

    disp = strs(DISPATCH_ACTIONS)
    mis = strs(MISDISPATCH_ACTIONS)
    tz = str(c.tz)
    day = "t.l_cr::date"
    hdue = "NULLIF(k.deadlines -> 'handle' ->> 'due', '')::timestamptz"
    vdue = "NULLIF(k.deadlines -> 'verify' ->> 'due', '')::timestamptz"
    sent_back = "(COALESCE(k.rework_count, 0) + COALESCE(k.reopen_count, 0))"
    filed = "(k.accepted_at IS NOT NULL AND k.state NOT IN ('merged', 'cancelled'))"
    ever_handled = f"(k.handled_at IS NOT NULL OR {sent_back} > 0)"
    on_time = f"(k.handled_at IS NOT NULL AND ({hdue} IS NULL OR k.handled_at <= {hdue}))"
    closed = f"(k.state IN ({strs(_CLOSED)}))"

    def n(cond: str) -> str:
        return f"CASE WHEN {cond} THEN 1 ELSE 0 END"

    measures = {
        "reported": "1",
        "filed": n(filed),
        "rejected": n("k.state = 'rejected'"),
        "merged": n("k.state = 'merged'"),
        "cancelled": n("k.state = 'cancelled'"),
        "open": n(f"k.state IN ({strs(_OPEN)})"),
        "suspended": n("k.state = 'suspended'"),
        "handled": n(ever_handled),
        "handled_on_time": n(on_time),
        "reworked": n(f"{ever_handled} AND {sent_back} > 0"),
        "closed": n(closed),
        "closed_on_time": n(
            f"{closed} AND {on_time} AND (k.verified_at IS NULL OR {vdue} IS NULL "
            f"OR k.verified_at <= {vdue})"
        ),
        "self_resolved": n(f"{closed} AND (k.self_resolved OR k.handling_level = 'grid')"),
        "first_time": n(f"{closed} AND {sent_back} = 0"),
        "rated": n("k.rating IS NOT NULL"),
        "satisfied": n(f"k.rating IS NOT NULL AND k.rating >= {SATISFIED_FROM}"),
        "response_n": n(filed),
        "response_seconds": f"CASE WHEN {filed} THEN {_between_sql('cr', 'ca', c)} ELSE 0 END",
        "handle_n": n("k.dispatched_at IS NOT NULL AND k.handled_at IS NOT NULL"),
        "handle_seconds": "CASE WHEN k.dispatched_at IS NOT NULL AND k.handled_at IS NOT NULL "
        f"THEN {_between_sql('cd', 'ch', c)} ELSE 0 END",
        "dispatches": "COALESCE(e.d, 0)",
        "misdispatches": "COALESCE(e.m, 0)",
    }
    assert tuple(measures) == MEASURES

    # Each instant's local time and seconds of day computed once per case (OFFSET 0 keeps the
    # planner from inlining these subqueries back into every use).
    locals_ = ", ".join(f"(k.{col} AT TIME ZONE '{tz}') AS l_{a}" for a, col in INSTANTS.items())
    tods = ", ".join(f"{_tod_sql(f'l.l_{a}')} AS tod_{a}" for a in INSTANTS)
    lateral = (
        f"CROSS JOIN LATERAL (SELECT l.*, {tods} FROM (SELECT {locals_} OFFSET 0) l OFFSET 0) t "  # noqa: S608 - identifiers are constants
    )

    return (
        f"SELECT k.grid_id, {day} AS day"  # noqa: S608 - identifiers are constants
        f", date_trunc('month', {day})::date AS month, "
        "COALESCE(k.matter_type_id, 0)::text AS mt, k.source, k.state, "
        "COALESCE(k.department_id::text, '') AS dept, "
        "COALESCE(k.assignee_id::text, '') AS worker, "
        f"{', '.join(f'{sql} AS {name}' for name, sql in measures.items())} "
        f"FROM {cases} k {lateral}"
        f"LEFT JOIN (SELECT case_id, SUM(CASE WHEN action IN ({disp}) THEN 1 ELSE 0 END) AS d, "
        f"SUM(CASE WHEN action IN ({mis}) THEN 1 ELSE 0 END) AS m FROM {events} "
        f"WHERE action IN ({strs(DISPATCH_ACTIONS | MISDISPATCH_ACTIONS)}) GROUP BY case_id) e "
        "ON e.case_id = k.id "
        f"LEFT JOIN {CALENDAR} cr ON cr.day = t.l_cr::date "
        f"LEFT JOIN {CALENDAR} ca ON ca.day = t.l_ca::date "
        f"LEFT JOIN {CALENDAR} cd ON cd.day = t.l_cd::date "
        f"LEFT JOIN {CALENDAR} ch ON ch.day = t.l_ch::date "
        f"WHERE NOT EXISTS (SELECT 1 FROM {suspensions} s WHERE s.case_id = k.id)"
    )


def _create_temp_tables(cursor: Any) -> None:
    date_type = "date"
    big = "bigint"
    measures = ", ".join(f"{m} {big} NOT NULL" for m in MEASURES)
    for name in (STAGE, REBUILT, ANCESTORS):
        cursor.execute(f"DROP TABLE IF EXISTS {name}")
    cursor.execute(
        f"CREATE TEMPORARY TABLE {STAGE} (grid_id {big}, day {date_type}, month {date_type}, "
        f"mt varchar(32), source varchar(32), state varchar(32), dept varchar(32), "
        f"worker varchar(32), {measures})"
    )
    cursor.execute(
        f"CREATE TEMPORARY TABLE {REBUILT} (grain varchar(1), bucket {date_type}, "
        f"region_id {big}, dim varchar(8), value varchar(32), {measures})"
    )
    cursor.execute(f"CREATE TEMPORARY TABLE {ANCESTORS} (region_id {big}, ancestor_id {big})")


def _copy_rows(cursor: Any, table: str, columns: tuple[str, ...], rows: Iterator[Any]) -> int:
    """Bulk-load ``rows`` in batches: COPY on PostgreSQL, executemany elsewhere. Each batch is
    drawn from ``rows`` before it is written, because ``rows`` may itself be reading through a
    server-side cursor on this connection (no query can run while a COPY is open)."""
    n = 0
    pg = connection.vendor == "postgresql"
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"  # noqa: S608 - identifiers are constants
    while True:
        batch = list(itertools.islice(rows, 20_000))
        if not batch:
            return n
        if pg:
            raw = cursor.cursor if hasattr(cursor, "cursor") else cursor
            with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in batch:
                    copy.write_row(row)
        else:
            cursor.executemany(sql, batch)
        n += len(batch)


def _aggregate(cursor: Any) -> None:
    """Expand the staged cases into rollup keys, exactly as :func:`facts.keys` does."""
    sums = ", ".join(f"SUM(s.{m})" for m in MEASURES)
    cols = f"grain, bucket, region_id, dim, value, {', '.join(MEASURES)}"
    cursor.execute(
        f"INSERT INTO {REBUILT} ({cols}) SELECT 'd', s.day, s.grid_id, 'type', s.mt, {sums} "  # noqa: S608 - identifiers are constants
        f"FROM {STAGE} s GROUP BY s.day, s.grid_id, s.mt"
    )
    cursor.execute(
        f"INSERT INTO {REBUILT} ({cols}) SELECT 'd', s.day, a.ancestor_id, '', '', {sums} "  # noqa: S608 - identifiers are constants
        f"FROM {STAGE} s JOIN {ANCESTORS} a ON a.region_id = s.grid_id "
        f"GROUP BY s.day, a.ancestor_id"
    )
    cursor.execute(
        f"INSERT INTO {REBUILT} ({cols}) SELECT 'm', s.month, a.ancestor_id, '', '', {sums} "  # noqa: S608 - identifiers are constants
        f"FROM {STAGE} s JOIN {ANCESTORS} a ON a.region_id = s.grid_id "
        f"GROUP BY s.month, a.ancestor_id"
    )
    for dim, column, where in (
        ("type", "mt", ""),
        ("source", "source", ""),
        ("state", "state", ""),
        ("dept", "dept", "WHERE s.dept <> ''"),
        ("worker", "worker", "WHERE s.worker <> ''"),
    ):
        cursor.execute(
            f"INSERT INTO {REBUILT} ({cols}) SELECT 'm', s.month, a.ancestor_id, '{dim}', "  # noqa: S608 - identifiers are constants
            f"s.{column}, {sums} FROM {STAGE} s JOIN {ANCESTORS} a ON a.region_id = s.grid_id "
            f"{where} GROUP BY s.month, a.ancestor_id, s.{column}"
        )


PARENTS = "analytics_parent"
GRID_ONLY = f"(x.grain = '{Grain.DAY.value}' AND x.dim = '{Dim.TYPE.value}')"


def _aggregate_pg(cursor: Any, c: WorkClock) -> int:
    """Set-based rebuild (PostgreSQL): every case's measures are computed in SQL and grouped
    once per grid by ``GROUPING SETS`` into the grid's own rollup keys (with the few cases that
    have suspension periods, staged by Python, added in); then each level of the region tree is
    summed into its parents, deepest first, so the case table is read once and no case row is
    multiplied by its ancestors. Returns the number of cases."""
    _calendar_rows(cursor, c)
    sums = ", ".join(f"SUM(s.{m})" for m in MEASURES)
    cols = f"grain, bucket, region_id, dim, value, {', '.join(MEASURES)}"
    stage_cols = ", ".join((*STAGE_KEYS, *MEASURES))
    grouped = [("mt", Dim.TYPE), ("source", Dim.SOURCE), ("state", Dim.STATE)]
    grouped += [("dept", Dim.DEPT), ("worker", Dim.WORKER)]
    cursor.execute("SET LOCAL work_mem = '256MB'")
    cursor.execute(f"INSERT INTO {STAGE} ({stage_cols}) {_stage_select_sql(c)}")
    cursor.execute(f"ANALYZE {STAGE}")
    # The grid's own keys, one GROUP BY each (as facts.keys: day × type, day and month totals,
    # month × each dimension; no department / worker row for cases without one).
    own = [("d", "day", "type", "mt", ""), ("d", "day", "", "", ""), ("m", "month", "", "", "")]
    own += [
        ("m", "month", d.value, col, f"WHERE s.{col} <> ''" if col in ("dept", "worker") else "")
        for col, d in grouped
    ]
    for grain, bucket, dim, col, where in own:
        value = f"s.{col}" if col else "''"
        group = f", s.{col}" if col else ""
        cursor.execute(
            f"INSERT INTO {REBUILT} ({cols}) SELECT '{grain}', s.{bucket}, s.grid_id, '{dim}', "  # noqa: S608 - identifiers are constants
            f"{value}, {sums} FROM {STAGE} s {where} GROUP BY s.{bucket}, s.grid_id{group}"
        )
    cursor.execute(f"DROP TABLE IF EXISTS {CALENDAR}")
    # The grid's day rows count every case once: their sum is the number of cases.
    cursor.execute(
        f"SELECT COALESCE(SUM(reported), 0) FROM {REBUILT} "  # noqa: S608 - identifiers are constants
        f"WHERE grain = '{Grain.DAY.value}' AND dim = ''"
    )
    cases = int(cursor.fetchone()[0])
    cursor.execute(f"SELECT DISTINCT region_id FROM {REBUILT} WHERE grain = 'm' AND dim = ''")  # noqa: S608 - identifiers are constants
    with_cases = {r for (r,) in cursor.fetchall()}
    cursor.execute(f"SELECT region_id, ancestor_id FROM {ANCESTORS}")  # noqa: S608 - identifiers are constants
    ancestors: dict[int, list[int]] = {}
    for region, ancestor in cursor.fetchall():
        ancestors.setdefault(region, []).append(ancestor)
    depth = {r: len(a) for r, a in ancestors.items()}
    parent = {}
    for r, path in ancestors.items():
        up = [a for a in path if a != r]
        if up:
            parent[r] = max(up, key=lambda a: depth.get(a, 0))
    cursor.execute(f"DROP TABLE IF EXISTS {PARENTS}")
    cursor.execute(
        f"CREATE TEMPORARY TABLE {PARENTS} (region_id bigint PRIMARY KEY, "
        "parent_id bigint, depth int)"
    )
    _copy_rows(
        cursor,
        PARENTS,
        ("region_id", "parent_id", "depth"),
        iter([(r, p, depth[r]) for r, p in parent.items()]),
    )
    cursor.execute(f"ANALYZE {PARENTS}")
    levels = sorted({depth[r] for r in parent}, reverse=True)
    for level in levels:
        cursor.execute(
            f"INSERT INTO {REBUILT} ({cols}) SELECT x.grain, x.bucket, p.parent_id, x.dim, "  # noqa: S608 - identifiers are constants
            f"x.value, {sums.replace('s.', 'x.')} FROM {REBUILT} x "
            f"JOIN {PARENTS} p ON p.region_id = x.region_id "
            f"WHERE p.depth = %s AND NOT {GRID_ONLY} "
            "GROUP BY x.grain, x.bucket, p.parent_id, x.dim, x.value",
            [level],
        )
    # A region with cases of its own that is also above another such region (a grid with
    # micro-grids) now has two rows per key: merge them.
    if any(a in with_cases for r in with_cases for a in ancestors.get(r, []) if a != r):
        cursor.execute(
            f"CREATE TEMPORARY TABLE {REBUILT}_m AS SELECT grain, bucket, region_id, "  # noqa: S608 - identifiers are constants
            f"dim, value, {', '.join(f'SUM({m}) AS {m}' for m in MEASURES)} FROM {REBUILT} "
            "GROUP BY grain, bucket, region_id, dim, value"
        )
        cursor.execute(f"DROP TABLE {REBUILT}")
        cursor.execute(f"ALTER TABLE {REBUILT}_m RENAME TO {REBUILT}")
    cursor.execute(f"DROP TABLE IF EXISTS {PARENTS}")
    return cases


def _diff_pg(cursor: Any, result: RebuildResult, samples: int) -> None:
    """The same counts as :func:`_diff` (the rebuilt rows lacking an equal stored row, and the
    non-zero stored rows lacking an equal rebuilt row) from one full join on the key."""
    on = " AND ".join(f"s.{k} = r.{k}" for k in KEY_COLUMNS)
    differ = "(" + " OR ".join(f"s.{m} <> r.{m}" for m in MEASURES) + ")"
    missing = f"r.grain IS NOT NULL AND (s.grain IS NULL OR {differ})"
    extra = f"s.grain IS NOT NULL AND (r.grain IS NULL OR {differ})"
    joined = f"FROM (SELECT * FROM {TABLE} WHERE {_nonzero()}) s FULL JOIN {REBUILT} r ON {on}"  # noqa: S608 - identifiers are constants
    cursor.execute(
        f"SELECT COUNT(CASE WHEN {missing} THEN 1 END), COUNT(CASE WHEN {extra} THEN 1 END) "
        f"{joined}"
    )
    result.missing, result.extra = (int(v) for v in cursor.fetchone())
    if not (result.differs and samples):
        return
    for label, alias, cond in (("rebuilt", "r", missing), ("stored", "s", extra)):
        keys = ", ".join(f"{alias}.{k}" for k in ("grain", "bucket", "region_id", "dim", "value"))
        cursor.execute(
            f"SELECT {keys}, {', '.join(f'{alias}.{m}' for m in MEASURES)} {joined} "
            f"WHERE {cond} ORDER BY {keys} LIMIT {int(samples)}"
        )
        for row in cursor.fetchall():
            nz = {m: v for m, v in zip(MEASURES, row[5:], strict=True) if v}
            result.samples.append(
                f"{label}: {row[0]} {row[1]} region={row[2]} {row[3] or 'total'}={row[4]} {nz}"
            )


def _nonzero(alias: str = "") -> str:
    p = f"{alias}." if alias else ""
    return "(" + " OR ".join(f"{p}{m} <> 0" for m in MEASURES) + ")"


def _diff(cursor: Any, result: RebuildResult, samples: int) -> None:
    cols = f"grain, bucket, region_id, dim, value, {', '.join(MEASURES)}"
    stored = f"SELECT {cols} FROM {TABLE} WHERE {_nonzero()}"  # noqa: S608 - identifiers are constants
    rebuilt = f"SELECT {cols} FROM {REBUILT}"  # noqa: S608 - identifiers are constants
    for attr, first, second in (("missing", rebuilt, stored), ("extra", stored, rebuilt)):
        cursor.execute(f"SELECT COUNT(*) FROM ({first} EXCEPT {second}) AS d")  # noqa: S608 - identifiers are constants
        setattr(result, attr, int(cursor.fetchone()[0]))
        if getattr(result, attr) and samples:
            cursor.execute(
                f"SELECT * FROM ({first} EXCEPT {second}) AS d "  # noqa: S608 - identifiers are constants
                f"ORDER BY grain, bucket, region_id, dim, value LIMIT {int(samples)}"
            )
            label = "rebuilt" if attr == "missing" else "stored"
            for row in cursor.fetchall():
                nz = {m: v for m, v in zip(MEASURES, row[5:], strict=True) if v}
                result.samples.append(
                    f"{label}: {row[0]} {row[1]} region={row[2]} {row[3] or 'total'}={row[4]} {nz}"
                )


@transaction.atomic
def rollups_rebuild(*, replace: bool = True, samples: int = 10) -> RebuildResult:
    """Recompute every rollup row from the raw cases; report and (with ``replace``) fix any
    difference. The journal is folded first; concurrent case writes wait (their handlers
    append to the journal, locked until the rebuild commits)."""
    from wangge.geo.models import Region

    result = RebuildResult()
    c = clock()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"LOCK TABLE {TABLE} IN SHARE ROW EXCLUSIVE MODE")
            # Case writes append to the journal: they wait until the rebuild commits.
            cursor.execute(f"LOCK TABLE {journal.JOURNAL} IN SHARE ROW EXCLUSIVE MODE")
        journal.fold()  # what is stored must include every committed case write
        _create_temp_tables(cursor)
        pairs = (
            (pk, int(a))
            for pk, path in Region.objects.values_list("pk", "path").iterator()
            for a in path.strip("/").split("/")
            if a
        )
        _copy_rows(cursor, ANCESTORS, ("region_id", "ancestor_id"), pairs)
        cursor.execute(f"CREATE INDEX {ANCESTORS}_region ON {ANCESTORS} (region_id, ancestor_id)")
        if connection.vendor == "postgresql":
            # Set-based: the cases without suspension periods in SQL, the few with them by
            # Python (the same functions as the incremental path), one grouping (decision 0008).
            _copy_rows(
                cursor, STAGE, (*STAGE_KEYS, *MEASURES), staged_rows(c, _suspended_case_ids())
            )
            result.cases = _aggregate_pg(cursor, c)
        else:
            result.cases = _copy_rows(cursor, STAGE, (*STAGE_KEYS, *MEASURES), staged_rows(c))
            _aggregate(cursor)
        cursor.execute(f"SELECT COUNT(*) FROM {REBUILT}")  # noqa: S608 - identifiers are constants
        result.rows = int(cursor.fetchone()[0])
        if connection.vendor == "postgresql":
            _diff_pg(cursor, result, samples)
        else:
            _diff(cursor, result, samples)
        if replace and (result.differs or _has_zero_rows(cursor)):
            cols = f"grain, bucket, region_id, dim, value, {', '.join(MEASURES)}"
            order = ""
            if connection.vendor == "postgresql":
                # Refilled in key order, so the index is built from sorted input.
                order = " ORDER BY region_id, grain, dim, bucket, value"
            if not _truncate(cursor):
                cursor.execute(f"DELETE FROM {TABLE}")  # noqa: S608 - identifiers are constants
            cursor.execute(f"INSERT INTO {TABLE} ({cols}) SELECT {cols} FROM {REBUILT}{order}")  # noqa: S608 - identifiers are constants
            result.replaced = True
        for name in (STAGE, REBUILT, ANCESTORS):
            cursor.execute(f"DROP TABLE IF EXISTS {name}")
    return result


def _truncate(cursor: Any) -> bool:
    """Empty the rollup table at once on PostgreSQL (derived data; readers wait for the commit
    instead of seeing it empty). Not possible on SQLite, nor while the transaction has pending
    deferred constraint checks (then the caller deletes the rows)."""
    if connection.vendor != "postgresql":
        return False
    try:
        with transaction.atomic():
            cursor.execute(f"TRUNCATE {TABLE}")
    except DatabaseError:
        return False
    return True


def _has_zero_rows(cursor: Any) -> bool:
    cursor.execute(f"SELECT 1 FROM {TABLE} WHERE NOT {_nonzero()} LIMIT 1")  # noqa: S608 - identifiers are constants
    return cursor.fetchone() is not None


def rollup_snapshot() -> dict[tuple[str, date, int, str, str], tuple[int, ...]]:
    """Every non-zero rollup row as a dict (tests compare incremental with rebuilt)."""
    out: dict[Any, tuple[int, ...]] = {}
    for row in CaseRollup.objects.values_list(
        *("grain", "bucket", "region_id", "dim", "value"), *MEASURES
    ):
        if any(row[5:]):
            out[tuple(row[:5])] = tuple(row[5:])
    return out
