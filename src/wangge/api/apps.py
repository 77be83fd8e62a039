from datetime import timedelta

from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "wangge.api"
    label = "api"
    verbose_name = "API"

    def ready(self) -> None:
        from wangge.core import events
        from wangge.core.periodic import register_periodic

        from . import webhooks
        from .open311.services import on_case_created as open311_record
        from .tasks import retry_due_webhooks

        events.subscribe("case.created", open311_record)
        events.subscribe("case.created", webhooks.on_case_created)
        events.subscribe("case.transitioned", webhooks.on_case_transitioned)
        events.subscribe("case.escalated", webhooks.on_case_escalated)
        register_periodic("api.webhooks_retry_due", timedelta(minutes=1), retry_due_webhooks)
        # The per-process copy of the active subscriptions is dropped on any write in this
        # process (other processes re-read it within webhooks.CHECK_INTERVAL_SECONDS).
        from django.db.models.signals import post_delete, post_save

        from .models import WebhookSubscription

        for signal in (post_save, post_delete):
            signal.connect(
                webhooks.forget_subscriptions,
                sender=WebhookSubscription,
                dispatch_uid=f"wangge_webhook_subs_{signal is post_save}",
            )
