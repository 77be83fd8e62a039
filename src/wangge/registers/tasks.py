"""Background work of the registers app (django_tasks)."""

from __future__ import annotations

from django_tasks import task


@task()
def run_import_job(job_id: int) -> str:
    """Run one queued Excel import (large files; small ones run in the request)."""
    from .jobs import import_job_run

    return import_job_run(job_id).status
