"""Explicit periodic jobs: apps register a task and an interval; ``wangge worker`` enqueues it
when due and records each enqueue in ``PeriodicJobRun`` (observable, survives restarts)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from .models import PeriodicJobRun


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    every: timedelta
    task: Any  # a django_tasks Task


_REGISTRY: dict[str, PeriodicJob] = {}


def register_periodic(name: str, every: timedelta, task: Any) -> None:
    _REGISTRY[name] = PeriodicJob(name=name, every=every, task=task)


def periodic_jobs() -> list[PeriodicJob]:
    return sorted(_REGISTRY.values(), key=lambda j: j.name)


def enqueue_due_jobs() -> list[str]:
    """Enqueue every job whose interval has passed. Safe with several workers: the row is
    locked and re-checked, so one enqueue happens per interval."""
    now = timezone.now()
    started: list[str] = []
    for job in periodic_jobs():
        with transaction.atomic():
            run, _ = PeriodicJobRun.objects.select_for_update().get_or_create(name=job.name)
            if run.last_enqueued_at and run.last_enqueued_at + job.every > now:
                continue
            result = job.task.enqueue()
            run.last_enqueued_at = now
            run.last_result = f"enqueued {result.id}"
            run.save(update_fields=["last_enqueued_at", "last_result"])
            started.append(job.name)
    return started
