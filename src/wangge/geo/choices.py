from django.db import models
from django.utils.translation import gettext_lazy as _


class Level(models.TextChoices):
    PROVINCE = "province", _("省")
    CITY = "city", _("市")
    COUNTY = "county", _("区县")
    STREET = "street", _("街道/乡镇")
    COMMUNITY = "community", _("社区/村")
    GRID = "grid", _("网格")
    MICRO_GRID = "micro_grid", _("微网格")


LEVEL_ORDER = [
    Level.PROVINCE,
    Level.CITY,
    Level.COUNTY,
    Level.STREET,
    Level.COMMUNITY,
    Level.GRID,
    Level.MICRO_GRID,
]
LEVEL_RANK = {level.value: i for i, level in enumerate(LEVEL_ORDER)}


class GridType(models.TextChoices):
    ORDINARY = "ordinary", _("综合网格")
    DEDICATED = "dedicated", _("专属网格")


GRID_TYPE_ALIASES = {
    "综合网格": GridType.ORDINARY,
    "综合": GridType.ORDINARY,
    "ordinary": GridType.ORDINARY,
    "专属网格": GridType.DEDICATED,
    "专属": GridType.DEDICATED,
    "dedicated": GridType.DEDICATED,
}
