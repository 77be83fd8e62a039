"""Background work of the cases app (django_tasks)."""

from __future__ import annotations

from django_tasks import task


@task()
def deliver_notifications(notification_ids: list[int], attempt: int = 1) -> int:
    from .notifications import deliver

    return deliver(notification_ids, attempt)


@task()
def announce_case(case_id: int, action: str, actor_id: int | None = None) -> int:
    """Tell whoever must act on a case after ``action`` (today: a new report): resolve the
    recipients, insert their in-app notifications and queue their delivery. Intake enqueues this
    one task instead of doing the region walk and inserts on the request path."""
    from .services.notify import after_transition

    return len(after_transition(case_id, action, actor_id))


@task()
def escalate_overdue() -> dict[str, int]:
    """The periodic escalation pass (every 5 minutes, see CasesConfig.ready)."""
    from .services.escalation import case_escalate_overdue

    return case_escalate_overdue().as_dict()
