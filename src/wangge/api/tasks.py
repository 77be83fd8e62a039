"""Background work of the api app (django_tasks): webhook deliveries."""

from __future__ import annotations

from django_tasks import task


@task()
def deliver_webhook(delivery_id: int) -> str:
    from .webhooks import webhook_attempt

    delivery = webhook_attempt(delivery_id)
    return delivery.state if delivery is not None else "missing"


@task()
def retry_due_webhooks() -> int:
    """Periodic safety net (every minute, see ApiConfig.ready)."""
    from .webhooks import webhooks_retry_due

    return webhooks_retry_due()
