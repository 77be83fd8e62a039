from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from .models import WorkerHeartbeat


def health_status() -> dict[str, object]:
    """Database reachable and a worker seen recently."""
    status: dict[str, object] = {"database": False, "worker": False}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        status["database"] = True
        cutoff = timezone.now() - timedelta(seconds=settings.WORKER_STALE_SECONDS)
        status["worker"] = WorkerHeartbeat.objects.filter(last_seen__gte=cutoff).exists()
    except Exception as exc:  # report, never raise, from a health probe
        status["error"] = exc.__class__.__name__
    status["ok"] = bool(status["database"] and status["worker"])
    return status
