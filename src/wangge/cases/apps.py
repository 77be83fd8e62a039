from datetime import timedelta

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "wangge.cases"
    label = "cases"
    verbose_name = _("事件处置")

    def ready(self) -> None:
        from wangge.core.periodic import register_periodic

        from .tasks import escalate_overdue

        register_periodic("cases.escalate_overdue", timedelta(minutes=5), escalate_overdue)
