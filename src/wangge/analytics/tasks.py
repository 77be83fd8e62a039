"""Background work of the analytics app (django_tasks): assessments, reports, the monthly job."""

from __future__ import annotations

from typing import Any

from django_tasks import task


@task()
def compute_assessment(run_id: int) -> dict[str, Any]:
    from .assessment import assessment_compute
    from .choices import RunStatus
    from .models import AssessmentRun

    run = AssessmentRun.objects.get(pk=run_id)
    AssessmentRun.objects.filter(pk=run_id).update(status=RunStatus.RUNNING)
    try:
        run = assessment_compute(run=run)
    except Exception as exc:
        AssessmentRun.objects.filter(pk=run_id).update(
            status=RunStatus.FAILED, error=str(exc)[:2000]
        )
        raise
    return {"run": run.pk, "results": run.results.count()}


@task()
def generate_report(report_id: int) -> dict[str, Any]:
    from .reports import report_generate

    report = report_generate(report_id=report_id)
    return {"report": report.pk, "status": report.status}


@task()
def monthly_run() -> dict[str, Any]:
    """Last month's (and, after a quarter's last month, last quarter's) assessments of every
    active scheme and the monthly reports of each scheme's region; idempotent per period."""
    from .assessment import scheduled_assessments
    from .reports import monthly_reports

    return {"runs": scheduled_assessments(), "reports": monthly_reports()}


@task()
def fold_rollups() -> dict[str, Any]:
    """Fold the pending rollup deltas (every minute; readers fold too, see .journal)."""
    from .journal import fold

    return {"folded": fold()}
