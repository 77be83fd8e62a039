from datetime import timedelta

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PartyConfig(AppConfig):
    name = "wangge.party"
    label = "party"
    verbose_name = _("党建服务")

    def ready(self) -> None:
        from wangge.core.periodic import register_periodic
        from wangge.registers.map import register_map_layer

        from .selectors import party_households_map_layer
        from .tasks import escalate_orders, expire_branches

        register_periodic("party.escalate_orders", timedelta(minutes=5), escalate_orders)
        register_periodic("party.expire_branches", timedelta(hours=1), expire_branches)
        register_map_layer(party_households_map_layer)
