from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "wangge.analytics"
    label = "analytics"
    verbose_name = _("指挥考核")

    def ready(self) -> None:
        from datetime import timedelta

        from wangge.core.periodic import register_periodic

        from . import rollups, tasks

        rollups.connect()
        # Checked daily; computes last month's assessments and reports once per period.
        register_periodic("analytics.monthly", timedelta(days=1), tasks.monthly_run)
        # Keeps the rollup journal short when nobody reads the rollups (readers fold too).
        register_periodic("analytics.fold_rollups", timedelta(minutes=1), tasks.fold_rollups)
