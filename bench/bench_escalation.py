"""Escalation scan: case_escalate_overdue with 1,000,000 vs 100,000 open cases, 1,000 due in both.

For each database (a scratch PostgreSQL database ``wangge_bench_escalation`` on 127.0.0.1:5432,
user postgres; and, unless left out, a scratch SQLite file), in a child process of its own:

1. ``migrate`` and ``wangge demo --small --no-cases`` (8 grids with their staff: the scan's
   notices have real recipients);
2. bulk-load open cases straight into ``cases_case`` (PostgreSQL ``COPY``, SQLite
   ``executemany`` in one transaction): ``--due`` of them (default 1,000) overdue and never
   escalated, the rest open with a deadline and a reminder time in the future, spread over the
   open states; then ``ANALYZE``;
3. time one ``case_escalate_overdue()`` pass (reminders + overdue rungs + late sub-tasks) inside a
   transaction that is rolled back afterwards, so the same cases are due again; best of
   ``--repeat``; and print the plans (EXPLAIN) of the scan's three queries;
4. top up to the large size (default 1,000,000 open cases) with more not-due cases and time the
   same pass again.

The ratio large / small must be ≤ 2 (issue 3): the scan must cost what is due, not what is open.
The scratch PostgreSQL database is dropped afterwards.

Usage: ``bench/run.py escalation [--small 100000] [--large 1000000] [--due 1000] [--repeat 2]
[--db postgres,sqlite]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchenv import pii_keys

REPO = Path(__file__).resolve().parent.parent
PG_DB = "wangge_bench_escalation"
PG_ADMIN_DSN = os.environ.get(
    "BENCH_PG_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=5"
)
TARGET = 2.0
OPEN_SPREAD = [  # (state, step) of the not-due open cases
    ("reported", "accept"),
    ("accepted", "dispatch"),
    ("dispatched", "handle"),
    ("in_progress", "handle"),
    ("in_progress", "handle"),
    ("handled", "verify"),
]
COLUMNS = [
    "tracking_code",
    "source",
    "reporter_name",
    "reporter_phone",
    "title",
    "description",
    "lon",
    "lat",
    "input_crs",
    "address",
    "grid_id",
    "region_path",
    "rules",
    "classification",
    "urgency",
    "state",
    "handling_level",
    "handling_region_id",
    "routing_reasons",
    "escalation_level",
    "step",
    "step_started_at",
    "due_at",
    "remind_at",
    "deadlines",
    "suspended_from",
    "version",
    "reported_at",
    "result",
    "rating_reason",
    "rework_count",
    "reopen_count",
    "self_resolved",
    "created_at",
    "updated_at",
]


def say(text: str = "") -> None:
    print(text, flush=True)


# --- the child: one database ---------------------------------------------------------------------


class Loader:
    def __init__(self, now: datetime, seed: int = 20261122) -> None:
        from wangge.geo.models import Region

        self.now = now
        self.rng = random.Random(seed)
        self.grids = [
            (g.pk, g.path)
            for g in Region.objects.filter(level="grid", is_active=True).order_by("code")
        ]
        self.count = 0

    def row(self, *, due: bool) -> tuple[Any, ...]:
        rng, now = self.rng, self.now
        self.count += 1
        grid_id, path = self.grids[self.count % len(self.grids)]
        if due:
            state, step = "dispatched", "handle"
            started = now - timedelta(hours=6 + rng.random() * 20)
            due_at = now - timedelta(minutes=5 + rng.random() * 600)
            remind_at = None
        else:
            state, step = OPEN_SPREAD[self.count % len(OPEN_SPREAD)]
            started = now - timedelta(hours=rng.random() * 48)
            due_at = now + timedelta(hours=2 + rng.random() * 24 * 30)
            remind_at = due_at - timedelta(hours=1)
        deadlines = json.dumps(
            {
                step: {
                    "due": due_at.isoformat(),
                    "limit": 4,
                    "unit": "hour",
                    "started": started.isoformat(),
                }
            }
        )
        return (
            f"B{self.count:011d}",
            "patrol",
            "",
            "",
            "暴露垃圾",
            "",
            120.59 + rng.random() * 0.01,
            31.33 + rng.random() * 0.01,
            "wgs84",
            "",
            grid_id,
            path,
            '{"urgency_levels": ["normal", "urgent"]}',
            "[]",
            "normal",
            state,
            "grid",
            grid_id,
            "[]",
            "",
            step,
            started,
            due_at,
            remind_at,
            deadlines,
            "",
            1,
            started,
            "",
            "",
            0,
            0,
            False,
            started,
            started,
        )

    def load(self, n: int, *, due: int) -> float:
        from django.db import connection, transaction

        started = time.perf_counter()
        rows = (self.row(due=i < due) for i in range(n))
        cols = ", ".join(COLUMNS)
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    raw = cursor.cursor
                    with raw.copy(f"COPY cases_case ({cols}) FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
            else:
                marks = ", ".join("?" for _ in COLUMNS)
                sql = f"INSERT INTO cases_case ({cols}) VALUES ({marks})"
                with connection.cursor() as cursor:
                    raw = cursor.cursor
                    batch: list[tuple[Any, ...]] = []
                    for row in rows:
                        batch.append(
                            tuple(v.isoformat(" ") if isinstance(v, datetime) else v for v in row)
                        )
                        if len(batch) == 20_000:
                            raw.executemany(sql, batch)
                            batch.clear()
                    if batch:
                        raw.executemany(sql, batch)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        return time.perf_counter() - started


def time_scan(now: datetime, repeat: int) -> tuple[float, dict[str, int]]:
    """Best of ``repeat`` passes, each rolled back so the same cases are due again."""
    from django.db import transaction

    from wangge.cases.services.escalation import case_escalate_overdue

    best, report = float("inf"), {}
    for _ in range(repeat):
        with transaction.atomic():
            started = time.perf_counter()
            report = case_escalate_overdue(now=now).as_dict()
            best = min(best, time.perf_counter() - started)
            transaction.set_rollback(True)
    return best, report


def explain(now: datetime) -> None:
    """Time and plan of the scan's three selecting queries (as case_escalate_overdue builds
    them), each on its own."""
    from django.db import connection

    from wangge.cases.choices import OPEN_STATES, HandlingLevel, SubTaskState
    from wangge.cases.models import Case, SubTask
    from wangge.cases.services.escalation import _due_for_reminder

    queries = {
        "reminders": _due_for_reminder(now),
        "overdue": Case.objects.filter(due_at__lte=now, state__in=OPEN_STATES)
        .exclude(escalation_level=HandlingLevel.DISTRICT)
        .select_related("assignee", "department", "grid", "handling_region")
        .order_by("due_at"),
        "late sub-tasks": SubTask.objects.filter(
            due_at__lte=now,
            state__in=(SubTaskState.PENDING, SubTaskState.ACCEPTED),
            case__state__in=OPEN_STATES,
        ).select_related("case", "department"),
    }
    for name, qs in queries.items():
        started = time.perf_counter()
        rows = len(list(qs))
        took = (time.perf_counter() - started) * 1000
        options = {"analyze": True} if connection.vendor == "postgresql" else {}
        plan = qs.explain(**options)
        say(f"    {name}: {rows} rows fetched in {took:.1f} ms; EXPLAIN:")
        for line in plan.splitlines():
            # The access path to cases_case and the time are what tell; joins are noise here.
            if connection.vendor != "postgresql" or any(
                key in line for key in (" on cases_case", "Execution Time", "Rows Removed")
            ):
                say(f"      {line.strip()}")


def child(args: argparse.Namespace) -> int:
    import django
    from django.core.management import call_command
    from django.db import connection

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    call_command("demo", "--small", "--no-cases", stdout=open(os.devnull, "w"))  # noqa: SIM115
    if connection.vendor == "postgresql":
        version = "PostgreSQL {}.{}".format(
            *divmod(connection.cursor().connection.info.server_version, 10000)
        )
    else:
        import sqlite3

        version = f"SQLite {sqlite3.sqlite_version} ({os.environ['SQLITE_PATH']})"
    say(f"[{args.db}] {version}")
    now = datetime.now(UTC).replace(microsecond=0)
    loader = Loader(now)
    seconds = loader.load(args.small, due=args.due)
    say(f"[{args.db}] loaded {args.small:,} open cases ({args.due:,} overdue) in {seconds:.1f} s")
    small, report = time_scan(now, args.repeat)
    say(f"[{args.db}] scan with {args.small:>9,} open: {small * 1000:8.0f} ms  {report}")
    explain(now)
    seconds = loader.load(args.large - args.small, due=0)
    say(f"[{args.db}] topped up to {args.large:,} open cases in {seconds:.1f} s")
    large, report = time_scan(now, args.repeat)
    say(f"[{args.db}] scan with {args.large:>9,} open: {large * 1000:8.0f} ms  {report}")
    explain(now)
    ratio = large / small
    ok = ratio <= TARGET
    say(
        f"[{args.db}] RATIO scan time {args.large:,} / {args.small:,} open = "
        f"{large * 1000:.0f} / {small * 1000:.0f} ms = {ratio:.2f}  "
        f"[{'ok' if ok else 'MISS'}] (target ≤ {TARGET})"
    )
    return 0 if ok else 1


# --- the parent -----------------------------------------------------------------------------------


def pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(sql)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench/run.py escalation")
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--db", default="postgres,sqlite")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args)
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    say(
        f"machine: {platform.node()} · {os.cpu_count()} cores · load {load} · "
        f"Python {platform.python_version()} · {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )
    status = 0
    for db in [d.strip() for d in args.db.split(",") if d.strip()]:
        workdir = Path(tempfile.mkdtemp(prefix=f"wangge-bench-escalation-{db}-"))
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        env.update(
            DJANGO_SETTINGS_MODULE="wangge.settings",
            WANGGE_VAR_DIR=str(workdir),
            DEBUG="0",
            **pii_keys(),
            LOG_LEVEL="WARNING",
            PYTHONPATH=str(REPO / "src"),
        )
        try:
            if db == "postgres":
                try:
                    pg_admin(f"DROP DATABASE IF EXISTS {PG_DB}")
                    pg_admin(f"CREATE DATABASE {PG_DB}")
                except Exception as exc:
                    say(f"[{db}] SKIPPED: PostgreSQL at 127.0.0.1:5432 is not usable ({exc})")
                    continue
                env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{PG_DB}"
            else:
                env["SQLITE_PATH"] = str(workdir / "escalation.sqlite3")
            code = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    "--db",
                    db,
                    "--small",
                    str(args.small),
                    "--large",
                    str(args.large),
                    "--due",
                    str(args.due),
                    "--repeat",
                    str(args.repeat),
                ],
                env=env,
                check=False,
            ).returncode
            status = status or code
        finally:
            if db == "postgres":
                try:
                    pg_admin(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
                except Exception as exc:  # pragma: no cover - reported, not fatal
                    say(f"[{db}] could not drop {PG_DB}: {exc}")
            shutil.rmtree(workdir, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
