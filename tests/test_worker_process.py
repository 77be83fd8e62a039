"""The real worker process: heartbeat for /healthz and a task run, on a file SQLite database
shared with another process (WAL), as `make run` does."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

WANGGE = [sys.executable, "-m", "wangge.cli"]


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        SQLITE_PATH=str(tmp_path / "w.sqlite3"),
        WORKER_HEARTBEAT_SECONDS="1",
        DJANGO_SETTINGS_MODULE="wangge.settings",
    )
    return env


def _shell(env: dict[str, str], code: str) -> str:
    out = subprocess.run(  # noqa: S603
        [*WANGGE, "shell", "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return out.stdout.strip().splitlines()[-1]


def test_worker_beats_and_runs_tasks(tmp_path):
    env = _env(tmp_path)
    subprocess.run([*WANGGE, "migrate", "--noinput", "-v", "0"], env=env, check=True)  # noqa: S603
    worker = subprocess.Popen(  # noqa: S603
        [*WANGGE, "worker", "--name", "test-worker", "--no-periodic"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        task_id = _shell(
            env,
            "from wangge.core.tests.periodic_tasks import touch; print(touch.enqueue().id)",
        )
        deadline = time.monotonic() + 60
        status = ""
        while time.monotonic() < deadline:
            status = _shell(
                env,
                "from django_tasks_db.models import DBTaskResult; "
                f"print(DBTaskResult.objects.get(id='{task_id}').status)",
            )
            if status == "SUCCESSFUL":
                break
            time.sleep(0.5)
        assert status == "SUCCESSFUL"
        health = _shell(
            env, "from wangge.core.selectors import health_status; print(health_status()['ok'])"
        )
        assert health == "True"
    finally:
        worker.terminate()
        worker.wait(timeout=20)
    if worker.returncode not in (0, -15):
        pytest.fail(worker.stderr.read().decode() if worker.stderr else "worker failed")
