"""Background work of the cases app (django_tasks)."""

from __future__ import annotations

from django_tasks import task


@task()
def deliver_notifications(notification_ids: list[int]) -> int:
    from .notifications import deliver

    return deliver(notification_ids)


@task()
def escalate_overdue() -> dict[str, int]:
    """The periodic escalation pass (every 5 minutes, see CasesConfig.ready)."""
    from .services.escalation import case_escalate_overdue

    return case_escalate_overdue().as_dict()
