"""Command centre at scale: rollups vs GROUP BY over raw cases, 5,000,000 vs 500,000 cases.

PostgreSQL only (a scratch database ``wangge_bench_analytics2`` on 127.0.0.1:5432, user postgres,
or ``$BENCH_ANALYTICS_DB``; dropped afterwards unless ``--keep``). In a child process:

1. ``migrate`` and ``wangge demo --no-cases`` (the full demo city: 522 grids, its catalogue);
2. generate ``--cases``/10 cases inside PostgreSQL (``INSERT … SELECT … generate_series``, seeded
   ``random()``; secondary indexes and foreign keys of ``cases_case`` dropped for the load and
   recreated after it) — the most recent tenth of a 3-year history at an even daily rate, states
   by age (old ones closed, rated, rejected, merged, cancelled; the last weeks open, some
   overdue; departments on the cases dispatched above the grid) — then
   ``wangge analytics rebuild-rollups`` (timed);
3. time the command-centre data of one poll (``analytics.selectors.dashboard_data``, what
   ``data.json`` returns, with the map's open/overdue/reported per grid; before 2026-12-07 the
   page polled ``map.geojson`` too and both were timed, ``map_data`` is now timed on its own as
   the page reads it once; before 2026-11-23 the map's per-grid sums only) for
   the district and for one grid, latest full month, best of ``--repeat``; time the same numbers
   by plain GROUP BY queries over ``cases_case`` (with the indexes the product has: the area
   path prefix, no index made for the benchmark) and check they agree; print the ratio
   (target ≥ 20); then, for information only, the grid's two sides again as the best of 20
   consecutive calls (warm: the best of 3 follows seconds of the district's raw reads);
4. top up with the older 90 % of the history (same rate, so the current month and the open
   cases are unchanged), rebuild, and time again: dashboard at N / at N/10 (target ≤ 1.5);
5. peak RSS of a fresh process that serves the dashboard's two endpoints through Django's WSGI
   handler 20 times.

Both sides of the ratio compute the same numbers and do the same kind of live reads of open
cases; the rollup side also builds the responses (labels, the map's features around the grid
polygons, which the process keeps after their first read), the raw side builds nothing.

Timeline counts (dispatches) are not generated: 准确派遣率 has no data in this city.

Usage: ``bench/run.py analytics [--cases 5000000] [--repeat 3] [--keep]``; after ``--keep``,
``bench/run.py analytics --reuse`` measures again on the kept database (no generation, no scale
ratio).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchenv import pii_keys

REPO = Path(__file__).resolve().parent.parent
PG_DB = os.environ.get("BENCH_ANALYTICS_DB", "wangge_bench_analytics2")
PG_ADMIN_DSN = os.environ.get(
    "BENCH_PG_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=5"
)
DAYS = 3 * 365
RATIO_TARGET = 20.0
SCALE_TARGET = 1.5
WARM = 20
COLUMNS = [
    "tracking_code", "source", "reporter_name", "reporter_phone", "title", "description", "lon",
    "lat", "input_crs", "address", "grid_id", "region_path", "matter_type_id", "rules",
    "classification", "urgency", "state", "handling_level", "routing_reasons", "escalation_level",
    "step", "step_started_at", "due_at", "deadlines", "suspended_from", "version", "reported_at",
    "accepted_at", "dispatched_at", "handled_at", "verified_at", "closed_at", "rated_at",
    "ended_at", "result", "rating", "rating_reason", "rework_count", "reopen_count",
    "self_resolved", "created_at", "updated_at",
]  # fmt: skip
SOURCES = (
    ["patrol"] * 40
    + ["hotline"] * 25
    + ["resident"] * 22
    + ["iot"] * 5
    + ["transfer"] * 5
    + ["leader"] * 3
)
OPEN = ["reported", "accepted", "dispatched", "in_progress", "handled", "verified"]


def say(text: str = "") -> None:
    print(text, flush=True)


class Loader:
    """Generates cases inside PostgreSQL: one ``INSERT … SELECT … FROM generate_series`` per
    million rows, ``random()`` seeded once per run with ``setseed`` (one session, no parallel
    workers: the same draws every run; the dates follow the start time). The secondary indexes
    and foreign keys of ``cases_case`` are dropped for the load and recreated (the foreign keys
    re-validated) after it, as bulk loads are done; the primary key and unique constraints
    stay."""

    CHUNK = 1_000_000

    def __init__(self, now: datetime, seed: float = 0.6) -> None:
        from django.db import connection

        from wangge.cases.models import Department, MatterType
        from wangge.geo.models import Region

        self.now = now
        self.grids = list(
            Region.objects.filter(level="grid").order_by("code").values_list("pk", "path")
        )
        self.types = list(MatterType.objects.order_by("pk").values_list("pk", flat=True))
        self.departments = list(Department.objects.order_by("pk").values_list("pk", flat=True))
        self.count = 0
        with connection.cursor() as cursor:
            cursor.execute("SET max_parallel_workers_per_gather = 0")
            cursor.execute("SELECT setseed(%s)", [seed])

    def _sql(self) -> str:
        hour = "interval '1 hour'"
        ages = "EXTRACT(EPOCH FROM (%(now)s::timestamptz - b.reported)) / 86400.0"
        state = (
            f"CASE WHEN {ages} > 20 THEN (CASE WHEN b.r_state < 0.33 THEN 'rated' "
            "WHEN b.r_state < 0.9 THEN 'closed' WHEN b.r_state < 0.94 THEN 'rejected' "
            "WHEN b.r_state < 0.97 THEN 'merged' ELSE 'cancelled' END) "
            f"WHEN b.r_open < LEAST(1, 2 / GREATEST({ages}, 0.1)) THEN "
            f"(ARRAY{OPEN!r})[1 + floor(b.r_which * {len(OPEN)})::int] ELSE 'closed' END"
        )
        # Timestamps of the steps a state has passed (NULL where it has not).
        times = (
            f"SELECT b.*, st.state, "
            f"CASE WHEN st.state IN ('rejected', 'merged', 'cancelled') THEN NULL "
            f"ELSE b.reported + {hour} * (0.1 + 2.9 * b.r_acc) END AS acc "
            f"FROM b CROSS JOIN LATERAL (SELECT {state} AS state) st"
        )
        steps = (
            "SELECT t.*, "
            "CASE WHEN t.acc IS NULL OR t.state = 'reported' THEN NULL "
            f"ELSE t.acc + {hour} * (0.1 + 1.9 * t.r_dis) END AS dis FROM ({times}) t"
        )
        han = (
            "SELECT s.*, CASE WHEN s.state IN ('handled', 'verified', 'closed', 'rated') "
            f"THEN s.dis + {hour} * (1 + 59 * s.r_han) END AS han FROM ({steps}) s"
        )
        ver = (
            "SELECT h.*, CASE WHEN h.state IN ('verified', 'closed', 'rated') "
            f"THEN h.han + {hour} * (0.5 + 9.5 * h.r_ver) END AS ver FROM ({han}) h"
        )
        clo = (
            "SELECT v.*, CASE WHEN v.state IN ('closed', 'rated') THEN v.ver + "
            f"{hour} END AS clo FROM ({ver}) v"
        )
        step = (
            "CASE x.state WHEN 'reported' THEN 'accept' WHEN 'accepted' THEN 'dispatch' "
            "WHEN 'dispatched' THEN 'handle' WHEN 'in_progress' THEN 'handle' "
            "WHEN 'handled' THEN 'verify' WHEN 'verified' THEN 'verify' ELSE '' END"
        )
        is_open = f"x.state IN ({', '.join(repr(s) for s in OPEN)})"
        src = (
            "CASE WHEN x.r_src < 0.40 THEN 'patrol' WHEN x.r_src < 0.65 THEN 'hotline' "
            "WHEN x.r_src < 0.87 THEN 'resident' WHEN x.r_src < 0.92 THEN 'iot' "
            "WHEN x.r_src < 0.97 THEN 'transfer' ELSE 'leader' END"
        )
        rating = (
            "CASE WHEN x.state = 'rated' THEN (CASE WHEN x.r_rate < 0.55 THEN 5 "
            "WHEN x.r_rate < 0.80 THEN 4 WHEN x.r_rate < 0.90 THEN 3 WHEN x.r_rate < 0.96 "
            "THEN 2 ELSE 1 END) END"
        )
        deadlines = (
            "jsonb_strip_nulls(jsonb_build_object("
            "'handle', CASE WHEN x.dis IS NOT NULL THEN jsonb_build_object('due', "
            f"to_jsonb(x.dis + {hour} * 40)) END, "
            "'verify', CASE WHEN x.han IS NOT NULL THEN jsonb_build_object('due', "
            f"to_jsonb(x.han + {hour} * 8)) END))"
        )
        dept = (
            "CASE WHEN x.dis IS NOT NULL AND x.r_level >= 0.5 AND %(ndept)s > 0 THEN "
            "(%(depts)s::bigint[])[1 + floor(x.r_dept * %(ndept)s)::int] END"
        )
        randoms = ", ".join(
            f"random() AS r_{n}"
            for n in (
                "grid", "type", "state", "open", "which", "acc", "dis", "han", "ver", "rework",
                "due", "src", "rate", "level", "dept",
            )
        )  # fmt: skip
        # OFFSET 0 keeps the planner from inlining the subquery (each random() drawn once).
        base = (
            f"SELECT i, %(first)s::timestamptz + (%(last)s::timestamptz - %(first)s::timestamptz)"
            f" * ((i - 1 + random()) / %(n)s) AS reported, {randoms} "
            "FROM generate_series(%(lo)s::int, %(hi)s::int) AS i OFFSET 0"
        )
        values = [
            "'B' || lpad((%(offset)s + x.i)::text, 11, '0')", src, "''", "''", "'暴露垃圾'", "''",
            "120.6", "31.3", "'wgs84'", "''",
            "(%(grids)s::bigint[])[1 + floor(x.r_grid * %(ngrid)s)::int]",
            "(%(paths)s::text[])[1 + floor(x.r_grid * %(ngrid)s)::int]",
            "(%(types)s::bigint[])[1 + floor(x.r_type * %(ntype)s)::int]",
            "'{}'", "'[]'", "'normal'", "x.state",
            "CASE WHEN x.r_level < 0.5 THEN 'grid' ELSE 'community' END", "'[]'", "''",
            step, f"CASE WHEN {is_open} THEN x.reported END",
            f"CASE WHEN {is_open} THEN x.reported + interval '1 day' * 10 * x.r_due END",
            deadlines, "''", "1", "x.reported", "x.acc", "x.dis", "x.han", "x.ver", "x.clo",
            f"CASE WHEN x.state = 'rated' THEN x.clo + {hour} END",
            "CASE WHEN x.state IN ('rejected', 'merged', 'cancelled') "
            f"THEN x.reported + {hour} END",
            "''", rating, "''",
            "CASE WHEN x.han IS NOT NULL AND x.r_rework < 0.06 THEN 1 ELSE 0 END", "0", "false",
            "x.reported", "COALESCE(x.clo, x.han, x.dis, x.acc, x.reported)", dept,
        ]  # fmt: skip
        return (
            f"INSERT INTO cases_case ({', '.join(COLUMNS)}, department_id) "
            f"SELECT {', '.join(values)} FROM ({clo}) x"
        ).replace("FROM b ", f"FROM ({base}) b ")

    def load(self, n: int, first: datetime, last: datetime) -> float:
        from django.db import connection, transaction

        started = time.perf_counter()
        params = {
            "now": self.now, "first": first, "last": last, "n": n, "offset": self.count,
            "grids": [g for g, _p in self.grids], "paths": [p for _g, p in self.grids],
            "ngrid": len(self.grids), "types": self.types, "ntype": len(self.types),
            "depts": self.departments, "ndept": len(self.departments),
        }  # fmt: skip
        sql = self._sql()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
            dropped = _drop_secondary(cursor, "cases_case")
            for lo in range(1, n + 1, self.CHUNK):
                cursor.execute(sql, {**params, "lo": lo, "hi": min(n, lo + self.CHUNK - 1)})
            _recreate(cursor, dropped)
        self.count += n
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE cases_case")
        return time.perf_counter() - started


def _drop_secondary(cursor: Any, table: str) -> list[str]:
    """Drop the table's foreign keys and the indexes that back no constraint; returns the SQL
    that recreates them (indexes first, then the foreign keys, which re-validate every row)."""
    cursor.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "WHERE i.indrelid = %s::regclass AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
        [table],
    )
    indexes = cursor.fetchall()
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype = 'f'",
        [table],
    )
    fks = cursor.fetchall()
    for name, _d in fks:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _d in indexes:
        cursor.execute(f"DROP INDEX {name}")
    return [d for _n, d in indexes] + [
        f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {d}' for name, d in fks
    ]


def _recreate(cursor: Any, statements: list[str]) -> None:
    for sql in statements:
        cursor.execute(sql)


def rebuild() -> tuple[float, Any]:
    from wangge.analytics.rollups import rollups_rebuild

    started = time.perf_counter()
    result = rollups_rebuild(samples=3)
    with __import__("django.db").db.connection.cursor() as c:
        c.execute("ANALYZE analytics_caserollup")
    return time.perf_counter() - started, result


def rollup_numbers(region: Any, period: Any, now: datetime) -> dict[str, Any]:
    from wangge.analytics.selectors import dashboard_data

    # What each poll of the page computes: data.json, which carries the map's numbers per grid
    # (since 2026-12-07; the page reads map.geojson, the polygons, once — timed on its own).
    data = dashboard_data(None, region, period, now=now)
    return {
        "state": {r["value"]: r["n"] for r in data["by_state"]},
        "source": {r["value"]: r["n"] for r in data["by_source"]},
        "totals": {
            k: data["totals"][k] for k in ("reported", "filed", "closed", "rated", "satisfied")
        },
        "days": sum(data["trend"]["reported"]),
    }


def raw_numbers(region: Any, period: Any, now: datetime) -> dict[str, Any]:
    """The same dashboard numbers by plain GROUP BY over cases_case (plus the same live reads)."""
    from django.db import connection

    from wangge.analytics.facts import midnight
    from wangge.analytics.selectors import children, open_by_grid, overdue_by, overdue_cases

    where = "region_path LIKE %s AND reported_at >= %s AND reported_at < %s"
    params = [region.path + "%", midnight(period.start), midnight(period.end)]
    out: dict[str, Any] = {}
    with connection.cursor() as c:
        for key, column in (
            ("state", "state"),
            ("source", "source"),
            ("type", "matter_type_id"),
            ("dept", "department_id"),
            ("grid", "grid_id"),
        ):
            c.execute(
                f"SELECT {column}, COUNT(*) FROM cases_case WHERE {where} GROUP BY {column}", params
            )
            out[key] = {str(k) if key == "type" else k: n for k, n in c.fetchall()}
        c.execute(
            "SELECT COUNT(*), "
            "SUM(CASE WHEN accepted_at IS NOT NULL AND state NOT IN ('merged','cancelled') THEN 1 ELSE 0 END), "  # noqa: E501
            "SUM(CASE WHEN state IN ('closed','rated') THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN rating IS NOT NULL THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN rating >= 4 THEN 1 ELSE 0 END) "
            f"FROM cases_case WHERE {where}",
            params,
        )
        out["totals"] = dict(
            zip(("reported", "filed", "closed", "rated", "satisfied"), c.fetchone(), strict=True)
        )
        c.execute(
            "SELECT (reported_at AT TIME ZONE 'Asia/Shanghai')::date AS d, COUNT(*) FROM cases_case "  # noqa: E501
            f"WHERE {where} GROUP BY d",
            params,
        )
        out["days"] = sum(n for _d, n in c.fetchall())
    kids = children(region)
    overdue_by(region.path, now=now, period=period, field="grid_id")
    open_by_grid(region.path)
    list(overdue_cases(region.path, now=now).order_by("due_at")[:20])
    if kids:  # sub-areas from the grid counts
        grid_paths = dict(type(region).objects.filter(pk__in=out["grid"]).values_list("pk", "path"))
        for k in kids:
            sum(n for g, n in out["grid"].items() if grid_paths.get(g, "").startswith(k.path))
    return out


def ping() -> float:
    """One round trip to PostgreSQL (``SELECT 1``); its time in seconds."""
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as c:
        c.execute("SELECT 1")
        c.fetchall()
    return time.perf_counter() - started


def wake_latency(samples: int = 20, idle: float = 0.08) -> tuple[float, float]:
    """Median time of a round trip to PostgreSQL right after another one, and after ``idle``
    seconds of silence. On the benchmark's virtual machines the second is milliseconds: a
    virtual CPU that went idle takes that long to be woken (the guest's ``haltpoll`` idle
    driver), and every call that follows a pause pays it once."""
    awake, after_idle = [], []
    for _ in range(samples):
        time.sleep(idle)
        after_idle.append(ping())
        awake.append(ping())
    return sorted(awake)[samples // 2], sorted(after_idle)[samples // 2]


def best_alternating(
    roll_fn: Any, raw_fn: Any, repeat: int, *, wake: bool
) -> tuple[float, Any, float, Any]:
    """Best of ``repeat`` calls of each side, the two sides alternating (rollups, raw, rollups,
    raw, …) so that a change of the machine's speed during the measurement (shared, noisy
    machines) weighs on both sides alike. ``wake``: an untimed round trip to PostgreSQL just
    before each timed call (on both sides), so that neither pays the virtual machine's wake-up
    from idle (:func:`wake_latency`), which is not work either side does."""
    roll_times, raw_times, roll, raw = [], [], None, None
    for _ in range(repeat):
        if wake:
            ping()
        started = time.perf_counter()
        roll = roll_fn()
        roll_times.append(time.perf_counter() - started)
        if wake:
            ping()
        started = time.perf_counter()
        raw = raw_fn()
        raw_times.append(time.perf_counter() - started)
    return min(roll_times), roll, min(raw_times), raw


def best(fn: Any, repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return min(times), result


def measure(
    tag: str, district: Any, grid: Any, period: Any, now: datetime, repeat: int
) -> dict[str, float]:
    out = {}
    awake, after_idle = wake_latency()
    say(
        f"[{tag}] round trip to PostgreSQL: {awake * 1000:.2f} ms right after another, "
        f"{after_idle * 1000:.2f} ms after 80 ms idle (the machine's wake-up; median of 20)"
    )
    for name, region in (("district", district), ("grid", grid)):
        roll_t, roll, raw_t, raw = best_alternating(
            lambda r=region: rollup_numbers(r, period, now),
            lambda r=region: raw_numbers(r, period, now),
            repeat,
            wake=True,
        )
        same = (
            roll["state"] == raw["state"]
            and roll["source"] == raw["source"]
            and roll["totals"] == {k: int(v or 0) for k, v in raw["totals"].items()}
            and roll["days"] == raw["days"]
        )
        ratio = raw_t / roll_t
        say(
            f"[{tag}] {name:<8} rollups {roll_t * 1000:8.1f} ms · raw GROUP BY {raw_t * 1000:8.1f} ms · "  # noqa: E501
            f"RATIO {ratio:6.1f}× [{'ok' if ratio >= RATIO_TARGET else 'MISS'}] (target ≥ {RATIO_TARGET:g}) · "  # noqa: E501
            f"same numbers: {'yes' if same else 'NO'} ({roll['totals']['reported']:,} cases in the period)"  # noqa: E501
        )
        out[name] = roll_t
        # For information: the same without the round trip before each call, so each side
        # also pays the wake-up from idle once per call (a fixed latency of this machine).
        roll_i, _r, raw_i, _r = best_alternating(
            lambda r=region: rollup_numbers(r, period, now),
            lambda r=region: raw_numbers(r, period, now),
            repeat,
            wake=False,
        )
        say(
            f"[{tag}] {name:<8} the same from idle (information): rollups {roll_i * 1000:.1f} ms · "
            f"raw GROUP BY {raw_i * 1000:.1f} ms · ratio {raw_i / roll_i:.1f}×"
        )
    # For information, not the target: the grid again with both sides warm (20 consecutive calls
    # each, one side after the other).
    roll_w, _r = best(lambda: rollup_numbers(grid, period, now), WARM)
    raw_w, _r = best(lambda: raw_numbers(grid, period, now), WARM)
    say(
        f"[{tag}] grid, best of {WARM} consecutive calls (information): rollups {roll_w * 1000:.2f} ms · "  # noqa: E501
        f"raw GROUP BY {raw_w * 1000:.1f} ms · ratio {raw_w / roll_w:.1f}×"
    )
    from wangge.analytics.selectors import map_data

    geo_t, _geo = best(lambda: map_data(district, period, now=now), repeat)
    grid_t, _geo = best(lambda: map_data(grid, period, now=now), repeat)
    say(
        f"[{tag}] map.geojson, read once per page (polygons + numbers): district (522 grids) "
        f"{geo_t * 1000:.0f} ms, grid {grid_t * 1000:.2f} ms"
    )
    return out


def peak_rss(code: str, period: str) -> float:
    # VmHWM is this process's own peak. ``ru_maxrss`` is not: Linux carries the parent's peak
    # across fork + exec, so it reported the benchmark process (≈200–400 MB after generating and
    # rebuilding), not the web process (figures before 2026-11-22 23:30).
    script = (
        "import resource, django, os; django.setup()\n"
        "def peak():\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith('VmHWM:'):\n"
        "            return int(line.split()[1])\n"
        "    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "from django.test import Client\nfrom wangge.accounts.models import User\n"
        "u = User.objects.filter(is_superuser=True).first()\nc = Client(); c.force_login(u)\n"
        f"for _ in range(20):\n    assert c.get('/analytics/data.json?area={code}&period={period}').status_code == 200\n"  # noqa: E501
        f"    assert c.get('/analytics/map.geojson?area={code}&period={period}').status_code == 200\n"  # noqa: E501
        "print(peak())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=os.environ, check=True
    )
    return int(out.stdout.strip().splitlines()[-1]) / 1024


def _subjects(now: datetime) -> tuple[Any, Any, Any]:
    from wangge.analytics.periods import parse_period
    from wangge.geo.models import Region

    district = Region.objects.filter(level="county").order_by("depth").first()
    busiest = Region.objects.filter(level="grid").order_by("code").first()
    last_month = now.date().replace(day=1) - timedelta(days=1)
    return district, busiest, parse_period(f"{last_month:%Y-%m}")


def reuse(args: argparse.Namespace) -> int:
    """Measure again on a database kept by ``--keep`` (its cases as generated then): no load,
    no rebuild, no scale ratio — for comparing code changes on the same data."""
    import django
    from django.db import connection

    django.setup()
    from wangge.cases.models import Case

    now = datetime.now(UTC).replace(microsecond=0)
    district, grid, period = _subjects(now)
    with connection.cursor() as c:
        c.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = 'cases_case'")
        cases = c.fetchone()[0]
    say(f"reusing {PG_DB}: ≈{cases:,} cases (latest id {Case.objects.order_by('-id')[0].pk:,})")
    say(f"period {period.label}; district {district.name}, grid {grid.name}")
    measure("reused", district, grid, period, now, args.repeat)
    return 0


def child(args: argparse.Namespace) -> int:
    import django
    from django.core.management import call_command
    from django.db import connection

    django.setup()

    if args.reuse:
        return reuse(args)
    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    call_command("demo", "--no-cases", stdout=open(os.devnull, "w"))  # noqa: SIM115
    version = "PostgreSQL {}.{}".format(
        *divmod(connection.cursor().connection.info.server_version, 10000)
    )
    say(f"{version}; demo city (no cases) in {time.perf_counter() - started:.0f} s")
    now = datetime.now(UTC).replace(microsecond=0)
    small = args.cases // 10
    loader = Loader(now)
    say(
        f"{len(loader.grids)} grids, {len(loader.types)} matter types; sizes {small:,} and {args.cases:,} cases"  # noqa: E501
    )
    recent = now - timedelta(days=DAYS / 10)
    took = loader.load(small, recent, now)
    say(f"[{small:,}] loaded (COPY) in {took:.0f} s")
    took, result = rebuild()
    say(f"[{small:,}] rebuild-rollups {took:.0f} s: {result.cases:,} cases → {result.rows:,} rows")
    district, busiest, period = _subjects(now)
    say(f"period {period.label}; district {district.name}, grid {busiest.name}")
    small_t = measure(f"{small:,}", district, busiest, period, now, args.repeat)
    took = loader.load(args.cases - small, now - timedelta(days=DAYS), recent)
    say(f"[{args.cases:,}] topped up with older history (COPY) in {took:.0f} s")
    took, result = rebuild()
    say(
        f"[{args.cases:,}] rebuild-rollups {took:.0f} s: {result.cases:,} cases → {result.rows:,} rows"  # noqa: E501
    )
    large_t = measure(f"{args.cases:,}", district, busiest, period, now, args.repeat)
    status = 0
    for name in ("district", "grid"):
        ratio = large_t[name] / small_t[name]
        ok = ratio <= SCALE_TARGET
        status = status or (0 if ok else 1)
        say(
            f"SCALE {name:<8} dashboard at {args.cases:,} / {small:,} cases = {large_t[name] * 1000:.1f} / "  # noqa: E501
            f"{small_t[name] * 1000:.1f} ms = {ratio:.2f} [{'ok' if ok else 'MISS'}] (target ≤ {SCALE_TARGET})"  # noqa: E501
        )
    say(
        f"peak RSS of a process serving the district dashboard 20×: {peak_rss(district.code, period.label):.0f} MB"  # noqa: E501
    )
    return status


def pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(sql)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench/run.py analytics")
    parser.add_argument("--cases", type=int, default=5_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--keep", action="store_true", help="keep the scratch database (to profile it after)"
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure on the database a --keep run left (no generation; no scale ratio)",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args)
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    say(
        f"machine: {platform.node()} · {os.cpu_count()} cores · load {load} · Python {platform.python_version()} · "  # noqa: E501
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )
    try:
        if not args.reuse:
            pg_admin(f"DROP DATABASE IF EXISTS {PG_DB}")
            pg_admin(f"CREATE DATABASE {PG_DB}")
    except Exception as exc:
        say(f"PostgreSQL is not reachable ({exc}); this benchmark needs it — skipped, no figures.")
        return 2
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        DJANGO_SETTINGS_MODULE="wangge.settings",
        DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{PG_DB}",
        PYTHONPATH=str(REPO / "src"),
        MEDIA_ROOT=f"/tmp/{PG_DB}-media",
        # As in production: DEBUG off (no query log on every statement of either side), which
        # the settings allow only with personal-data keys (fresh random ones: scratch data).
        DEBUG="0",
        **pii_keys(),
    )
    try:
        code = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                "--cases",
                str(args.cases),
                "--repeat",
                str(args.repeat),
                *(["--reuse"] if args.reuse else []),
            ],
            env=env,
            cwd=REPO,
            check=False,
        ).returncode
    finally:
        if not (args.keep or args.reuse):
            pg_admin(f"DROP DATABASE IF EXISTS {PG_DB}")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
