"""Writes to the region tree. Every change is audited; renames and boundary changes keep the
previous state in ``RegionVersion``; boundary changes bump the locator generation."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.core.audit import audit_log
from wangge.core.exceptions import ValidationError

from . import locator
from .choices import LEVEL_RANK, GridType, Level
from .codes import code_problems
from .geometry import derived_fields, repair, to_geojson, to_shape
from .models import PATH_SEP, LocatorGeneration, Region, RegionVersion


def locator_generation_bump() -> None:
    """Tell every process that boundaries changed (they rebuild their locator index)."""
    updated = LocatorGeneration.objects.filter(id=1).update(
        generation=F("generation") + 1, changed_at=timezone.now()
    )
    if not updated:
        LocatorGeneration.objects.create(id=1, generation=1)
    locator.invalidate()


def _prepare_boundary(boundary: dict[str, Any] | None) -> tuple[dict[str, Any] | None, dict]:
    if boundary is None:
        return None, derived_fields(None)
    try:
        geom = to_shape(boundary)
    except Exception as exc:
        raise ValidationError(_("边界不是有效的GeoJSON几何：%(e)s") % {"e": exc}) from exc
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise ValidationError(_("边界必须是面(Polygon或MultiPolygon)。"))
    geom, _reason = repair(geom)
    if geom.is_empty:
        raise ValidationError(_("边界修复后为空。"))
    return to_geojson(geom), derived_fields(geom)


def _check_level(level: str, parent: Region | None) -> None:
    if parent is None:
        if level != Level.PROVINCE:
            raise ValidationError(_("只有省级区域可以没有上级。"))
        return
    if LEVEL_RANK[level] <= LEVEL_RANK[parent.level]:
        raise ValidationError(
            _("%(child)s不能位于%(parent)s之下。")
            % {"child": Level(level).label, "parent": Level(parent.level).label}
        )


@transaction.atomic
def region_create(
    *,
    actor: Any,
    level: str,
    code: str,
    name: str,
    parent: Region | None,
    boundary: dict[str, Any] | None = None,
    grid_type: str = "",
    households: int | None = None,
    population: int | None = None,
    source_code: str = "",
    check_code: bool = True,
    audit: bool = True,
) -> Region:
    """Create a region node under ``parent`` with a validated code."""
    _check_level(level, parent)
    if check_code:
        problems = code_problems(level, code, parent.code if parent else None)
        if problems:
            raise ValidationError("; ".join(problems), errors={"code": problems})
    if Region.objects.filter(code=code).exists():
        raise ValidationError(_("代码%(code)s已存在。") % {"code": code}, errors={"code": [code]})
    if grid_type and level not in (Level.GRID, Level.MICRO_GRID):
        raise ValidationError(_("只有网格可以设置网格类型。"))
    if level == Level.GRID and not grid_type:
        grid_type = GridType.ORDINARY
    geojson, derived = _prepare_boundary(boundary)
    region = Region(
        level=level,
        code=code,
        name=name.strip(),
        parent=parent,
        grid_type=grid_type,
        households=households,
        population=population,
        boundary=geojson,
        source_code=source_code,
        depth=(parent.depth + 1) if parent else 0,
        path="",
        **derived,
    )
    region.save()
    region.path = f"{parent.path if parent else PATH_SEP}{region.pk}{PATH_SEP}"
    region.save(update_fields=["path"])
    if geojson is not None:
        locator_generation_bump()
    if audit:
        audit_log(
            actor=actor,
            action="geo.region_create",
            obj=region,
            after={
                "code": code,
                "name": region.name,
                "level": level,
                "parent": parent and parent.code,
            },
        )
    return region


@transaction.atomic
def region_update(
    *,
    actor: Any,
    region: Region,
    reason: str = "",
    audit: bool = True,
    **changes: Any,
) -> Region:
    """Rename or re-draw a region (``name``, ``boundary``, ``households``, ``population``,
    ``grid_type``, ``is_active``). The previous state is kept as a version."""
    allowed = {"name", "boundary", "households", "population", "grid_type", "is_active"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError(_("不能修改字段：%(f)s") % {"f": ", ".join(sorted(unknown))})
    region = Region.objects.select_for_update().get(pk=region.pk)
    before = {k: getattr(region, k) for k in changes if k != "boundary"}
    RegionVersion.objects.create(
        region=region,
        version=region.version,
        name=region.name,
        code=region.code,
        parent_id_at=region.parent_id,
        boundary=region.boundary,
        households=region.households,
        population=region.population,
        valid_until=timezone.now(),
        changed_by=actor if getattr(actor, "pk", None) else None,
        reason=reason[:255],
    )
    fields = ["version", "updated_at"]
    if "boundary" in changes:
        geojson, derived = _prepare_boundary(changes.pop("boundary"))
        region.boundary = geojson
        for key, value in derived.items():
            setattr(region, key, value)
        fields += ["boundary", *derived.keys()]
    for key, value in changes.items():
        setattr(region, key, value.strip() if isinstance(value, str) else value)
        fields.append(key)
    region.version += 1
    region.save(update_fields=fields)
    # The locator holds boundaries, active flags and names (for its answers) in memory.
    if {"boundary", "is_active", "name"} & set(fields):
        locator_generation_bump()
    if audit:
        audit_log(
            actor=actor,
            action="geo.region_update",
            obj=region,
            before=before,
            after={k: getattr(region, k) for k in before} | {"reason": reason},
        )
    return region
