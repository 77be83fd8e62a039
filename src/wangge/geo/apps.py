from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GeoConfig(AppConfig):
    name = "wangge.geo"
    label = "geo"
    verbose_name = _("区域与网格")
