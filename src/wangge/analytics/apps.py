from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "wangge.analytics"
    label = "analytics"
    verbose_name = _("指挥考核")

    def ready(self) -> None:
        from . import rollups

        rollups.connect()
