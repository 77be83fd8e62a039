"""Intake over HTTP: POST /api/v1/cases/ req/s vs GET /api/v1/accounts/me (gunicorn + wrk).

For each database (a scratch SQLite file, and a scratch PostgreSQL database
``wangge_bench_intake`` on 127.0.0.1:5432, user postgres), in a fresh environment:

1. ``wangge migrate`` and ``wangge demo --no-cases`` (the demo city: 522 grids, 1,578
   micro-grids, its staff and departments, the matter catalogue), then on PostgreSQL
   ``VACUUM ANALYZE`` so that autovacuum does not work through the freshly loaded tables during
   a measured run;
2. an API token for the ``district`` login (区县指挥中心, may file cases anywhere in the district)
   and 1,000 seeded random points inside the demo grids;
3. gunicorn on 127.0.0.1 with the project's settings (``wangge.wsgi``, DEBUG off), ``--workers``
   sync workers;
4. wrk with the same threads, connections and duration against
   * the baseline: ``GET /api/v1/accounts/me`` with the token (token auth + a small JSON answer),
   * intake: ``POST /api/v1/cases/`` with the token, a 12345-hotline JSON body per request (a
     random point from the list, a text the keyword classifier recognises, a unique
     ``client_key``) = locate + classify + route + deadline + persist + timeline + audit +
     the queued notification task,
   * alternating ``--rounds`` times (default 2) baseline, intake, and a closing baseline, after a
     short warm-up of each; the ratio is the mean intake rate / the mean baseline rate.
     Non-2xx answers must be 0 for the ratio to count.
5. The cases written are counted in the database (must equal the 2xx answers), with the
   tasks they queued (one ``announce_case`` each); then ``wangge db_worker --batch`` drains the
   queue as the production worker would — recipients, in-app notifications, delivery — and the
   notifications are counted (none may fail or stay queued for the ratio to count).

Target (issue 3): ratio ≥ 0.4 on both databases.

Usage: ``bench/run.py intake [--duration 12] [--warmup 3] [--rounds 2] [--threads 2]
[--connections 8] [--workers 4] [--db sqlite,postgres] [--small]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from benchenv import pii_keys

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PG_DB = os.environ.get("BENCH_INTAKE_DB", "wangge_bench_intake")  # a per-worktree name
PG_ADMIN_DSN = os.environ.get(
    "BENCH_PG_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=5"
)
PG_URL = f"postgres://postgres@127.0.0.1:5432/{PG_DB}"
TARGET = 0.4
TITLES = [
    "小区门口暴露垃圾没人清理",
    "路面破损有个大坑",
    "沿街占道经营",
    "晚上噪声扰民太吵",
    "楼道堆物杂物堆放",
    "垃圾桶满溢无人清运",
    "非机动车乱停放堵住通道",
    "电动车违规充电",
    "道路积水严重",
    "邻里纠纷需要调解",
]

SETUP = r"""
import json, random, django
django.setup()
import shapely
from shapely.geometry import shape
from wangge.accounts.models import User
from wangge.accounts.services import api_token_create
from wangge.geo.models import Region

user = User.objects.get(username="district")
_, raw = api_token_create(actor=None, user=user, name="bench-intake")
rng = random.Random(20261122)
grids = list(Region.objects.filter(level="grid", is_active=True).order_by("code"))
points = []
for i in range(1000):
    geom = shape(grids[i % len(grids)].boundary)
    minx, miny, maxx, maxy = geom.bounds
    while True:
        x, y = round(rng.uniform(minx, maxx), 7), round(rng.uniform(miny, maxy), 7)
        if shapely.contains_xy(geom, x, y):
            points.append([x, y])
            break
print(json.dumps({"token": raw, "points": points, "grids": len(grids)}))
"""

COUNT = r"""
import json, django
django.setup()
from django.db import connection
from wangge.cases.models import Case, Notification
from django_tasks_db.models import DBTaskResult
print(json.dumps({
    "cases": Case.objects.filter(client_key__startswith="bench-").count(),
    "notifications": Notification.objects.filter(case__client_key__startswith="bench-").count(),
    "tasks": DBTaskResult.objects.count(),
    "announce": DBTaskResult.objects.filter(task_path__endswith=".announce_case").count(),
    "pending": DBTaskResult.objects.filter(status="READY").count(),
    "failed": DBTaskResult.objects.filter(status="FAILED").count(),
    "vendor": connection.vendor,
    "version": ".".join(str(v) for v in connection.Database.sqlite_version_info)
    if connection.vendor == "sqlite"
    else "{0}.{1}".format(*divmod(connection.cursor().connection.info.server_version, 10000)),
}))
"""

ME_LUA = """
wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer {token}"
"""

INTAKE_LUA = """
local points = {points}
local titles = {titles}
local counter = 0
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
function init(args)
  math.randomseed(tid * 7919 + 17)
end
request = function()
  counter = counter + 1
  local p = points[math.random(#points)]
  local t = titles[math.random(#titles)]
  local body = string.format(
    '{{"source":"hotline","title":"%s","description":"%s","lon":%.7f,"lat":%.7f,' ..
    '"reporter_name":"王女士","reporter_phone":"13512345678","client_key":"bench-%s-%d-%d"}}',
    t, t, p[1], p[2], "{run}", tid, counter)
  return wrk.format("POST", "/api/v1/cases/", {{
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer {token}",
  }}, body)
end
"""


def say(text: str = "") -> None:
    print(text, flush=True)


@dataclass
class WrkResult:
    rps: float
    requests: int
    non2xx: int
    socket_errors: int
    latency: str

    def line(self) -> str:
        return (
            f"{self.rps:8.1f} req/s  ({self.requests} requests, non-2xx {self.non2xx}, "
            f"socket errors {self.socket_errors}, mean latency {self.latency})"
        )


def run_wrk(args: argparse.Namespace, script: Path, url: str, seconds: int) -> WrkResult:
    out = subprocess.run(
        [
            "wrk",
            f"-t{args.threads}",
            f"-c{args.connections}",
            f"-d{seconds}s",
            "--timeout",
            "30s",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    latency = re.search(r"Latency\s+(\S+)", out)
    return WrkResult(
        rps=rps,
        requests=requests,
        non2xx=int(non2xx.group(1)) if non2xx else 0,
        socket_errors=sum(int(g) for g in sock.groups()) if sock else 0,
        latency=latency.group(1) if latency else "?",
    )


def ensure_wrk() -> None:
    if shutil.which("wrk"):
        return
    say("wrk is missing: apt-get update && apt-get install -y wrk")
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "wrk"],
        check=True,
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wangge(env: dict[str, str], *argv: str) -> str:
    return subprocess.run(
        [str(BIN / "wangge"), *argv], env=env, capture_output=True, text=True, check=True
    ).stdout


def python(env: dict[str, str], code: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(sql)


def wait_ready(url: str, token: str, deadline: float) -> None:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.3)
    raise SystemExit(f"gunicorn did not answer {url} in time")


def one_intake(base: str, token: str, point: list[float]) -> tuple[int, dict]:
    body = json.dumps(
        {
            "source": "hotline",
            "title": TITLES[0],
            "lon": point[0],
            "lat": point[1],
            "client_key": "bench-probe",
        }
    ).encode()
    request = urllib.request.Request(
        f"{base}/api/v1/cases/",
        data=body,
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, {"error": exc.read().decode(errors="replace")[:500]}


def bench_db(args: argparse.Namespace, db: str, workdir: Path) -> dict | None:
    env = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="wangge.settings",
        WANGGE_VAR_DIR=str(workdir),
        MEDIA_ROOT=str(workdir / "media"),
        DEBUG="0",
        **pii_keys(),
        LOG_LEVEL="WARNING",
        WANGGE_NOTIFY_ADAPTERS="console",
        PYTHONPATH=str(REPO / "src"),
    )
    if db == "sqlite":
        env["SQLITE_PATH"] = str(workdir / "intake.sqlite3")
        label = f"SQLite file {env['SQLITE_PATH']}"
    else:
        try:
            pg_admin(f"DROP DATABASE IF EXISTS {PG_DB}")
            pg_admin(f"CREATE DATABASE {PG_DB}")
        except Exception as exc:
            say(f"[{db}] SKIPPED: PostgreSQL at 127.0.0.1:5432 is not usable ({exc})")
            return None
        env["DATABASE_URL"] = PG_URL
        label = f"PostgreSQL database {PG_DB} on 127.0.0.1:5432"
    server = None
    try:
        started = time.perf_counter()
        wangge(env, "migrate", "--noinput", "-v", "0")
        wangge(env, "demo", "--no-cases", *(["--small"] if args.small else []))
        info = python(env, SETUP)
        if db == "postgres":
            # Settle the freshly loaded city first, so autovacuum does not analyse the demo's
            # tables in the middle of a measured run (it did: the write side slowed most).
            import psycopg

            with psycopg.connect(
                PG_ADMIN_DSN.replace("dbname=postgres", f"dbname={PG_DB}"), autocommit=True
            ) as conn:
                conn.execute("VACUUM ANALYZE")
        say(
            f"[{db}] {label}: migrate + demo --no-cases{' --small' if args.small else ''} "
            f"({info['grids']} grids) in {time.perf_counter() - started:.1f} s"
        )
        token, points = info["token"], info["points"]
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "wangge.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(args.workers),
                "--worker-class",
                "sync",
                "--log-level",
                "warning",
                "--timeout",
                "60",
            ],
            env=env,
            cwd=workdir,
        )
        wait_ready(f"{base}/api/v1/accounts/me", token, time.time() + 60)
        status, probe = one_intake(base, token, points[0])
        if status != 201:
            say(f"[{db}] the probe POST answered {status}: {probe}")
            return {"db": db, "ok": False}
        say(
            f"[{db}] probe: 201, {probe['tracking_code']} state {probe['state']}, "
            f"matter {(probe.get('case') or {}).get('matter_type')}"
        )
        me_lua = workdir / "me.lua"
        me_lua.write_text(ME_LUA.format(token=token), encoding="utf-8")
        lua_points = "{" + ",".join(f"{{{x},{y}}}" for x, y in points) + "}"
        lua_titles = "{" + ",".join(f'"{t}"' for t in TITLES) + "}"

        def intake_script(run: str) -> Path:
            path = workdir / f"intake-{run}.lua"
            path.write_text(
                INTAKE_LUA.format(points=lua_points, titles=lua_titles, run=run, token=token),
                encoding="utf-8",
            )
            return path

        me_url = f"{base}/api/v1/accounts/me"
        intake_url = f"{base}/api/v1/cases/"
        run_wrk(args, me_lua, me_url, args.warmup)
        run_wrk(args, intake_script(f"warm{db}"), intake_url, args.warmup)
        # Baseline and intake alternate (B I B I … B) so that a drift of the machine's speed
        # during the run weighs on both sides alike.
        baselines: list[WrkResult] = []
        intakes: list[WrkResult] = []
        for round_ in range(args.rounds):
            baselines.append(run_wrk(args, me_lua, me_url, args.duration))
            say(f"[{db}] baseline GET /api/v1/accounts/me   {baselines[-1].line()}")
            intakes.append(
                run_wrk(args, intake_script(f"run{db}{round_}"), intake_url, args.duration)
            )
            say(f"[{db}] intake   POST /api/v1/cases/       {intakes[-1].line()}")
        baselines.append(run_wrk(args, me_lua, me_url, args.duration))
        say(f"[{db}] baseline GET /api/v1/accounts/me   {baselines[-1].line()}")
        server.terminate()
        server.wait(timeout=30)
        server = None
        counts = python(env, COUNT)
        say(
            f"[{db}] after the run: cases written by the bench {counts['cases']}, "
            f"notifications {counts['notifications']}, queued tasks {counts['tasks']} "
            f"({counts['announce']} announce_case)"
        )
        # The notices are the background worker's job: drain the queue as `wangge db_worker`
        # would in production (after the measurement, so it does not share the CPU with it).
        started = time.perf_counter()
        wangge(env, "db_worker", "--batch", "--no-startup-delay", "--interval", "0")
        drained = time.perf_counter() - started
        after = python(env, COUNT)
        say(
            f"[{db}] db_worker --batch ran {counts['pending']} queued tasks (and the delivery "
            f"tasks they queued) in {drained:.1f} s: notifications {after['notifications']}, "
            f"tasks {after['tasks']}, failed {after['failed']}, still queued {after['pending']}"
        )
        baseline = sum(r.rps for r in baselines) / len(baselines)
        intake_rps = sum(r.rps for r in intakes) / len(intakes)
        ratio = intake_rps / baseline if baseline else 0.0
        errors = sum(r.non2xx + r.socket_errors for r in (*baselines, *intakes))
        say(f"[{db}] database: {counts['vendor']} {counts['version']}")
        ok = errors == 0 and after["failed"] == 0 and after["pending"] == 0
        say(
            f"[{db}] RATIO intake / bare authenticated endpoint = {intake_rps:.1f} / "
            f"{baseline:.1f} = {ratio:.2f}"
            + (
                ""
                if ok
                else f"  (does NOT count: {errors} non-2xx or socket errors, "
                f"{after['failed']} failed / {after['pending']} undelivered tasks)"
            )
        )
        return {"db": db, "ok": ok, "ratio": ratio}
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if db == "postgres":
            try:
                pg_admin(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
            except Exception as exc:  # pragma: no cover - reported, not fatal
                say(f"[{db}] could not drop {PG_DB}: {exc}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench/run.py intake")
    parser.add_argument("--duration", type=int, default=12, help="seconds per measured run")
    parser.add_argument(
        "--rounds", type=int, default=2, help="baseline/intake pairs (and a closing baseline)"
    )
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per endpoint")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--small", action="store_true", help="the small demo city (8 grids)")
    args = parser.parse_args(argv)
    ensure_wrk()
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split()[1]
    gunicorn_version = (
        subprocess.run([str(BIN / "gunicorn"), "--version"], capture_output=True, text=True)
        .stdout.split()[-1]
        .strip("()")
    )
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    now = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    say(
        f"machine: {platform.node()} · {os.cpu_count()} cores · load {load} · "
        f"Python {platform.python_version()} · gunicorn {gunicorn_version} "
        f"({args.workers} sync workers) · wrk {wrk_version} (-t{args.threads} "
        f"-c{args.connections} -d{args.duration}s, {args.warmup} s warm-up, "
        f"{args.rounds} rounds) · {now}"
    )
    return run_databases(args, "intake", bench_db, TARGET, "intake / bare endpoint")


def run_databases(
    args: argparse.Namespace,
    name: str,
    bench_one: Callable[[argparse.Namespace, str, Path], dict | None],
    target: float,
    label: str,
) -> int:
    """Run ``bench_one`` for each database of ``--db`` in a scratch directory, then print each
    ratio against ``target``; exit status 1 on a miss or a run with errors. Shared with
    bench_open311."""
    results = []
    for db in [d.strip() for d in args.db.split(",") if d.strip()]:
        workdir = Path(tempfile.mkdtemp(prefix=f"wangge-bench-{name}-{db}-"))
        try:
            results.append(bench_one(args, db, workdir))
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    say()
    status = 0
    for result in results:
        if result is None:
            continue
        if not result["ok"]:
            say(f"  [FAIL] {result['db']}: errors during the run, no ratio")
            status = 1
            continue
        ok = result["ratio"] >= target
        say(
            f"  [{'ok' if ok else 'MISS'}] {result['db']}: {label} "
            f"{result['ratio']:.2f} (target ≥ {target})"
        )
        status = status or (0 if ok else 1)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
