"""Open311 intake: POST /open311/v2/requests.json req/s vs public POST /api/v1/cases/ (wrk).

The Open311 layer must add little to the internal intake API it sits on (issue 7: ratio ≥ 0.8).
For each database (a scratch SQLite file; a scratch PostgreSQL database
``wangge_bench_open311`` on 127.0.0.1:5432, user postgres), in a fresh environment, with the
helpers of ``bench_intake`` (same server, load tool and points):

1. ``wangge migrate`` and ``wangge demo --no-cases`` (the demo city and the full catalogue);
2. an API token for the ``district`` login, an Open311 client key (rate limit out of the way),
   1,000 seeded random points inside the demo grids;
3. gunicorn on 127.0.0.1 (``wangge.wsgi``, DEBUG off, ``--workers`` sync workers);
4. wrk with the same threads, connections and duration against
   * the baseline: the internal intake API's public channel, ``POST /api/v1/cases/`` as
     ``bench_intake`` sends it (JSON, a random point, a unique ``client_key``) but anonymous with
     source ``resident`` (its per-address limit lifted with ``CASES_PUBLIC_RATE_PER_MINUTE``) —
     the same kind of caller as an Open311 client, answered with the same short body (a staff
     token would add the full case, suggestions and duplicates to the answer),
   * Open311: ``POST /open311/v2/requests.json`` form-encoded with ``api_key``,
     ``service_code`` 06010, ``lat``/``long`` of a random point, a description and a phone —
     key check + rate count + the same intake + the Open311 record (token) in one transaction,
   * the baseline again; the ratio is Open311 / mean of the two baselines. Non-2xx must be 0.
5. The Open311 records written are counted (must equal the 2xx answers of the Open311 runs).

Usage: ``bench/run.py open311 [--duration 12] [--warmup 3] [--threads 2] [--connections 8]
[--workers 4] [--db sqlite,postgres] [--small]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_intake import (
    BIN,
    INTAKE_LUA,
    REPO,
    SETUP,
    TITLES,
    ensure_wrk,
    free_port,
    pg_admin,
    python,
    run_databases,
    run_wrk,
    say,
    wait_ready,
    wangge,
)
from benchenv import pii_keys

PG_DB = "wangge_bench_open311"
PG_URL = f"postgres://postgres@127.0.0.1:5432/{PG_DB}"
TARGET = 0.8
PUBLIC_INTAKE_LUA = INTAKE_LUA.replace('"source":"hotline"', '"source":"resident"').replace(
    '    ["Authorization"] = "Bearer {token}",\n', ""
)
KEY_LINE = 'print(json.dumps({"token": raw,'
SETUP_OPEN311 = SETUP.replace(
    KEY_LINE,
    "from wangge.api.open311.keys import client_create\n"
    '_c, key = client_create(actor="bench", name="bench-open311", rate_per_minute=10**9)\n'
    'print(json.dumps({"key": key, "token": raw,',
)

COUNT = r"""
import json, django
django.setup()
from wangge.api.models import Open311Request
from wangge.cases.models import Case
print(json.dumps({
    "open311": Open311Request.objects.count(),
    "open311_cases": Case.objects.filter(source="api").count(),
    "intake_cases": Case.objects.filter(client_key__startswith="bench-").count(),
}))
"""

OPEN311_LUA = """
local points = {points}
local titles = {titles}
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
function init(args)
  math.randomseed(tid * 104729 + 3)
end
local function urlencode(s)
  return (s:gsub("[^%w%-_%.~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end
request = function()
  local p = points[math.random(#points)]
  local t = titles[math.random(#titles)]
  local body = "api_key={key}&service_code=06010" ..
    string.format("&lat=%.7f&long=%.7f", p[2], p[1]) ..
    "&description=" .. urlencode(t) .. "&phone=13512345678&first_name=" .. urlencode("女士") ..
    "&last_name=" .. urlencode("王")
  return wrk.format("POST", "/open311/v2/requests.json", {{
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }}, body)
end
"""


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
        CASES_PUBLIC_RATE_PER_MINUTE="100000000",
    )
    if db == "sqlite":
        env["SQLITE_PATH"] = str(workdir / "open311.sqlite3")
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
        info = python(env, SETUP_OPEN311)
        say(
            f"[{db}] {label}: migrate + demo --no-cases{' --small' if args.small else ''} "
            f"({info['grids']} grids) in {time.perf_counter() - started:.1f} s"
        )
        token, key, points = info["token"], info["key"], info["points"]
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
        lua_points = "{" + ",".join(f"{{{x},{y}}}" for x, y in points) + "}"
        lua_titles = "{" + ",".join(f'"{t}"' for t in TITLES) + "}"

        def intake_script(run: str) -> Path:
            path = workdir / f"intake-{run}.lua"
            path.write_text(
                PUBLIC_INTAKE_LUA.format(points=lua_points, titles=lua_titles, run=run),
                encoding="utf-8",
            )
            return path

        open311_lua = workdir / "open311.lua"
        open311_lua.write_text(
            OPEN311_LUA.format(points=lua_points, titles=lua_titles, key=key), encoding="utf-8"
        )
        intake_url = f"{base}/api/v1/cases/"
        open311_url = f"{base}/open311/v2/requests.json"
        run_wrk(args, intake_script(f"warm{db}"), intake_url, args.warmup)
        base1 = run_wrk(args, intake_script(f"a{db}"), intake_url, args.duration)
        say(f"[{db}] baseline POST /api/v1/cases/ (public)     {base1.line()}")
        run_wrk(args, open311_lua, open311_url, args.warmup)
        warm_open311 = python(env, COUNT)["open311"]
        o311 = run_wrk(args, open311_lua, open311_url, args.duration)
        say(f"[{db}] Open311  POST /open311/v2/requests.json   {o311.line()}")
        base2 = run_wrk(args, intake_script(f"b{db}"), intake_url, args.duration)
        say(f"[{db}] baseline POST /api/v1/cases/ (public)     {base2.line()}")
        server.terminate()
        server.wait(timeout=30)
        server = None
        counts = python(env, COUNT)
        written = counts["open311"] - warm_open311
        say(
            f"[{db}] Open311 records written in the measured run {written} "
            f"(2xx answers {o311.requests - o311.non2xx}); all Open311 records "
            f"{counts['open311']} = cases from the api channel {counts['open311_cases']}"
        )
        baseline = (base1.rps + base2.rps) / 2
        ratio = o311.rps / baseline if baseline else 0.0
        errors = base1.non2xx + base2.non2xx + o311.non2xx
        errors += base1.socket_errors + base2.socket_errors + o311.socket_errors
        consistent = counts["open311"] == counts["open311_cases"]
        ok = errors == 0 and consistent
        say(
            f"[{db}] RATIO Open311 / internal intake = {o311.rps:.1f} / {baseline:.1f} = "
            f"{ratio:.2f}"
            + ("" if ok else f"  (does NOT count: {errors} errors, consistent={consistent})")
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
    parser = argparse.ArgumentParser(prog="bench/run.py open311")
    parser.add_argument("--duration", type=int, default=12, help="seconds per measured run")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per endpoint")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--small", action="store_true", help="the small demo city (8 grids)")
    args = parser.parse_args(argv)
    if SETUP_OPEN311 == SETUP or "Authorization" in PUBLIC_INTAKE_LUA:
        say("bench_intake.SETUP or INTAKE_LUA changed: cannot derive this benchmark's scripts")
        return 2
    ensure_wrk()
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    say(
        f"machine: {platform.node()} · {os.cpu_count()} cores · load {load} · "
        f"Python {platform.python_version()} · {args.workers} gunicorn sync workers · wrk "
        f"-t{args.threads} -c{args.connections} -d{args.duration}s ({args.warmup} s warm-up) · "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )
    return run_databases(args, "open311", bench_db, TARGET, "Open311 / internal intake")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
