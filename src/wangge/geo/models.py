from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from wangge.accounts.permissions import RestrictedQuerySet

from .choices import GridType, Level

PATH_SEP = "/"


class Region(models.Model):
    """A node of the region tree (省 → … → 网格 → 微网格).

    ``path`` is a materialized path of primary keys (``"/1/5/23/"``): a subtree is a prefix
    match, indexed on both SQLite and PostgreSQL (Django adds a ``varchar_pattern_ops`` index on
    PostgreSQL for ``db_index`` CharFields)."""

    level = models.CharField(_("层级"), max_length=16, choices=Level.choices, db_index=True)
    code = models.CharField(_("代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=128, db_index=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(max_length=255, db_index=True, editable=False)
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    grid_type = models.CharField(_("网格类型"), max_length=16, choices=GridType.choices, blank=True)
    households = models.PositiveIntegerField(_("户数"), null=True, blank=True)
    population = models.PositiveIntegerField(_("人口"), null=True, blank=True)
    boundary = models.JSONField(_("边界(GeoJSON, WGS-84)"), null=True, blank=True)
    # Bounding box and a representative point, derived from the boundary on save by services.
    min_lon = models.FloatField(null=True, blank=True)
    min_lat = models.FloatField(null=True, blank=True)
    max_lon = models.FloatField(null=True, blank=True)
    max_lat = models.FloatField(null=True, blank=True)
    center_lon = models.FloatField(null=True, blank=True)
    center_lat = models.FloatField(null=True, blank=True)
    area_m2 = models.FloatField(_("面积(平方米)"), null=True, blank=True)
    source_code = models.CharField(_("来源代码"), max_length=64, blank=True)
    version = models.PositiveIntegerField(default=1)
    is_active = models.BooleanField(_("有效"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedQuerySet.as_manager()
    scope_path_field = "path"

    class Meta:
        verbose_name = _("区域")
        verbose_name_plural = _("区域")
        ordering = ["path"]
        permissions = [("import_region", _("导入区域与网格"))]

    def __str__(self) -> str:
        return self.name

    @property
    def audit_region_path(self) -> str:
        return self.path

    def ancestor_ids(self) -> list[int]:
        return [int(p) for p in self.path.strip(PATH_SEP).split(PATH_SEP) if p]

    @property
    def is_grid(self) -> bool:
        return self.level in (Level.GRID, Level.MICRO_GRID)

    def summary(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "level": self.level}


class RegionVersion(models.Model):
    """The previous state of a region before a rename or boundary change (never destructive)."""

    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    name = models.CharField(max_length=128)
    code = models.CharField(max_length=32)
    parent_id_at = models.BigIntegerField(null=True, blank=True)
    boundary = models.JSONField(null=True, blank=True)
    households = models.PositiveIntegerField(null=True, blank=True)
    population = models.PositiveIntegerField(null=True, blank=True)
    valid_until = models.DateTimeField()
    changed_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["region", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["region", "version"], name="uniq_region_version")
        ]
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.code} v{self.version}"


class LocatorGeneration(models.Model):
    """Bumped whenever boundaries change; every process rebuilds its in-memory index when the
    number it last saw is older (cheap check, one row)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    generation = models.BigIntegerField(default=0)
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"locator generation {self.generation}"
