"""API fuzzing: schemathesis on /api/v1/openapi.json against gunicorn; 5xx, schema violations.

The suite runs the same loop with a few examples per operation (src/wangge/api/tests/
test_fuzz.py); this is the longer run. In a scratch SQLite database: ``migrate``,
``demo --small`` (a small city with cases), a token for a user holding the district commander's
and the system administrator's roles on the whole county; gunicorn (DEBUG off); then
``--examples`` generated requests per operation of the OpenAPI document (positive and negative
data, schemathesis defaults), each checked for: no 5xx, the documented response schema, the
documented content type. Afterwards: no case without its timeline entry, and the audit chain
verifies (no request left partial data).

The "ratio" printed is the share of requests answered without a failed check (must be 1.00),
against the baseline of all requests sent in the same run.

Usage: ``bench/run.py fuzz [--examples 100] [--workers 2]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from benchenv import pii_keys

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_intake import BIN, REPO, free_port, python, say, wait_ready, wangge

SETUP = r"""
import json, django
django.setup()
from wangge.accounts.models import Role, RoleAssignment, User
from wangge.accounts.services import api_token_create
from wangge.geo.models import Region
user = User.objects.get(username="district")
county = Region.objects.filter(level="county").order_by("code").first()
admin = Role.objects.get(code="sysadmin")
RoleAssignment.objects.get_or_create(user=user, role=admin, region=county)
_, raw = api_token_create(actor=None, user=user, name="bench-fuzz")
print(json.dumps({"token": raw}))
"""

CHECK = r"""
import json, django
django.setup()
from wangge.cases.models import Case
from wangge.core.audit import audit_verify

print(json.dumps({
    "cases": Case.objects.count(),
    "without_timeline": Case.objects.filter(events__isnull=True).count(),
    "audit_problems": len(list(audit_verify())),
}))
"""


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench/run.py fuzz")
    parser.add_argument("--examples", type=int, default=100, help="examples per operation")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wangge.settings")
    import schemathesis

    from wangge.api.tests.fuzzing import fuzz_operation, operations

    workdir = Path(tempfile.mkdtemp(prefix="wangge-bench-fuzz-"))
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)}
    env.update(
        DJANGO_SETTINGS_MODULE="wangge.settings",
        WANGGE_VAR_DIR=str(workdir),
        SQLITE_PATH=str(workdir / "fuzz.sqlite3"),
        MEDIA_ROOT=str(workdir / "media"),
        DEBUG="0",
        **pii_keys(),
        LOG_LEVEL="ERROR",
        PYTHONPATH=str(REPO / "src"),
        CASES_PUBLIC_RATE_PER_MINUTE="100000000",
    )
    server = None
    try:
        started = time.perf_counter()
        wangge(env, "migrate", "--noinput", "-v", "0")
        wangge(env, "demo", "--small")
        token = python(env, SETUP)["token"]
        say(f"scratch SQLite + demo --small in {time.perf_counter() - started:.1f} s")
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
                "--log-level",
                "error",
            ],
            env=env,
            cwd=workdir,
            stderr=(workdir / "gunicorn.log").open("w"),  # the 404/422 warnings of the run
        )
        wait_ready(f"{base}/api/v1/accounts/me", token, time.time() + 60)
        schema = schemathesis.openapi.from_url(f"{base}/api/v1/openapi.json")
        ops = operations(schema)
        statuses: Counter[int] = Counter()
        failures: list[str] = []
        started = time.perf_counter()
        for op in ops:
            before = sum(statuses.values())
            found = fuzz_operation(op, base, token, args.examples, statuses)
            failures += found
            say(
                f"  {op.label:<62} {sum(statuses.values()) - before:5d} requests"
                f"{'' if not found else f'  {len(found)} FAILED'}"
            )
        elapsed = time.perf_counter() - started
        server.terminate()
        server.wait(timeout=30)
        server = None
        after = python(env, CHECK)
        sent = sum(statuses.values()) + len(failures)
        server_errors = sum(n for code, n in statuses.items() if code >= 500)
        say(
            f"{len(ops)} operations, {sent} requests in {elapsed:.0f} s; statuses "
            f"{dict(sorted(statuses.items()))}; failed checks {len(failures)}; 5xx {server_errors}"
        )
        say(
            f"after the run: {after['cases']} cases, {after['without_timeline']} without their "
            f"timeline entry, audit chain problems {after['audit_problems']}"
        )
        for failure in failures[:10]:
            say("  " + failure.replace("\n", "\n  ")[:1500])
        clean = sent - len(failures)
        say(
            f"RATIO requests passing every check / requests sent = {clean} / {sent} = "
            f"{clean / sent if sent else 0:.2f}"
        )
        ok = not failures and not server_errors and not after["without_timeline"]
        ok = ok and not after["audit_problems"]
        say(f"  [{'ok' if ok else 'FAIL'}] fuzz: zero 5xx, zero schema violations, no partial data")
        return 0 if ok else 1
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
