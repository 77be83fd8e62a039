from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.utils import timezone

from wangge.core.models import WorkerHeartbeat


def _import_settings(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}} | env
    return subprocess.run(
        [sys.executable, "-c", "import wangge.settings"],
        env=full,
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_refuses_debug():
    result = _import_settings({"WANGGE_PRODUCTION": "1", "DEBUG": "1", "SECRET_KEY": "x" * 50})
    assert result.returncode != 0
    assert "DEBUG" in result.stderr


def test_production_refuses_the_default_secret():
    result = _import_settings({"WANGGE_PRODUCTION": "1"})
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_secret_can_come_from_a_file(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("s" * 64)
    pii = {
        "WANGGE_PII_KEYS": "a2V5LWZvci10ZXN0cy1vbmx5LTMyLWJ5dGVzLWxvbmc=",
        "WANGGE_PII_INDEX_KEY": "i" * 40,
    }
    result = _import_settings({"WANGGE_PRODUCTION": "1", "SECRET_KEY_FILE": str(secret)} | pii)
    assert result.returncode == 0, result.stderr


def test_the_default_database_opens_in_a_folder_that_does_not_exist_yet(tmp_path):
    """A fresh clone has no var/: `make run` migrates the embedded SQLite database first."""
    path = tmp_path / "var" / "nested" / "wangge.sqlite3"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env |= {"SQLITE_PATH": str(path), "DJANGO_SETTINGS_MODULE": "wangge.settings"}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); "
            "from django.db import connection; connection.ensure_connection()",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert path.exists()


@pytest.mark.django_db
def test_healthz_needs_a_live_worker(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] is True
    now = timezone.now()
    WorkerHeartbeat.objects.create(name="w1", started_at=now, last_seen=now)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": True, "worker": True, "ok": True}
    WorkerHeartbeat.objects.filter(name="w1").update(last_seen=now - timedelta(minutes=5))
    assert client.get("/healthz").status_code == 503


@pytest.mark.django_db
def test_every_response_carries_a_request_id(client):
    response = client.get("/healthz", headers={"X-Request-ID": "abcdef123456"})
    assert response["X-Request-ID"] == "abcdef123456"
    assert len(client.get("/healthz", headers={"X-Request-ID": "bad id!"})["X-Request-ID"]) == 32


@pytest.mark.parametrize(("flag", "expected"), [(None, "True"), ("0", "False"), ("1", "True")])
def test_prepared_statements_can_be_switched_off_for_a_pooler(flag, expected):
    """DATABASE_PREPARED_STATEMENTS=0 (a transaction-mode pooler) sends every statement
    unprepared; by default PostgreSQL prepares the few hot ones (decisions 0024, 0025)."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_PREPARED_STATEMENTS"}
    env |= {
        "DATABASE_URL": "postgres://nobody@127.0.0.1:9/none",  # never connected to
        "DJANGO_SETTINGS_MODULE": "wangge.settings",
        **({"DATABASE_PREPARED_STATEMENTS": flag} if flag is not None else {}),
    }
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from wangge.core.db import prepared; print(prepared())",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected
