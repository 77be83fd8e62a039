"""Background work of the party app (django_tasks), run by ``wangge worker``."""

from __future__ import annotations

from django_tasks import task


@task()
def escalate_orders() -> dict[str, int]:
    """Escalate service orders not dispatched or accepted in time (every 5 minutes)."""
    from .services.orders import service_order_escalate_due

    return service_order_escalate_due()


@task()
def expire_branches() -> list[int]:
    """Dissolve 临时党支部 past their end date (hourly)."""
    from .services.orgs import party_org_expire_due

    return party_org_expire_due()
