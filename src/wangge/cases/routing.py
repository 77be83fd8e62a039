"""Routing (小事不出格、大事全网联动): from the catalogue rules and the grid, decide who handles a
case and say why in plain Chinese.

准入: a matter that is not admitted to grids (``pushdown_allowed`` false) is never routed to a
grid, whatever its default level says."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from wangge.geo.choices import Level
from wangge.geo.models import Region

from .choices import HandlingLevel
from .models import Department, MatterRoute, MatterType

LEVEL_REGION = {
    HandlingLevel.GRID: (Level.GRID, Level.MICRO_GRID),
    HandlingLevel.COMMUNITY: (Level.COMMUNITY,),
    HandlingLevel.STREET: (Level.STREET,),
    HandlingLevel.DISTRICT: (Level.COUNTY,),
}


@dataclass
class RouteResult:
    level: str
    region: Region | None
    department: Department | None = None
    on_spot: bool = False
    reasons: list[str] = field(default_factory=list)


def ancestor_at(grid: Region, level: str, path: Sequence[Region] | None = None) -> Region | None:
    """The region on the grid's path that serves ``level`` (the grid itself for GRID).

    ``path`` — the grid's regions root … grid as the locator answered them — saves the query
    when it holds every ancestor."""
    wanted = LEVEL_REGION.get(HandlingLevel(level), ())
    if grid.level in wanted:
        return grid
    ids = grid.ancestor_ids()
    nodes: Iterable[Region]
    if path is not None and [r.pk for r in path] == ids:
        nodes = [r for r in path if r.level in wanted]
    else:
        nodes = Region.objects.filter(pk__in=ids, level__in=wanted)
    return max(nodes, key=lambda r: r.depth, default=None)


def responsible_department(matter_type: MatterType, grid: Region) -> Department | None:
    """The department of the deepest MatterRoute whose region covers the grid."""
    routes = (
        MatterRoute.objects.filter(
            matter_type=matter_type, region_id__in=grid.ancestor_ids(), department__is_active=True
        )
        .select_related("department", "region")
        .order_by("-region__depth")
    )
    route = routes.first()
    return route.department if route else None


def route_case(
    *,
    matter_type: MatterType | None,
    rules: dict[str, Any],
    grid: Region,
    on_spot: bool = False,
    path: Sequence[Region] | None = None,
) -> RouteResult:
    """Decide the handling level, region and department for a case in ``grid`` (``path``: the
    grid's regions from the locator, root … grid, when at hand)."""
    if matter_type is None:
        region = ancestor_at(grid, HandlingLevel.COMMUNITY, path)
        return RouteResult(
            HandlingLevel.COMMUNITY,
            region,
            reasons=[_("事项类型未确定，由社区受理分类。")],
        )
    name = rules.get("name", matter_type.name)
    level = rules.get("default_level", HandlingLevel.COMMUNITY)
    pushdown = bool(rules.get("pushdown_allowed"))
    reasons: list[str] = []
    if on_spot:
        if rules.get("on_spot_allowed") and pushdown:
            return RouteResult(
                HandlingLevel.GRID,
                grid,
                on_spot=True,
                reasons=[_("“%(n)s”属于网格可现场处置的小事，由网格员当场解决。") % {"n": name}],
            )
        reasons.append(_("“%(n)s”不允许网格现场处置，按清单流转。") % {"n": name})
    if level == HandlingLevel.GRID:
        if pushdown:
            reasons.append(_("“%(n)s”已列入网格准入清单，由本网格处置。") % {"n": name})
            return RouteResult(HandlingLevel.GRID, grid, reasons=reasons)
        reasons.append(_("“%(n)s”未列入网格准入清单，不下沉网格，由社区处置。") % {"n": name})
        level = HandlingLevel.COMMUNITY
    if level == HandlingLevel.DEPARTMENT:
        department = responsible_department(matter_type, grid)
        if department is not None:
            reasons.append(
                _("“%(n)s”由职能部门处置，本区域责任部门为%(d)s。")
                % {"n": name, "d": department.name}
            )
            street = ancestor_at(grid, HandlingLevel.STREET, path)
            return RouteResult(HandlingLevel.DEPARTMENT, street, department, reasons=reasons)
        reasons.append(_("“%(n)s”在本区域未配置责任部门，转街道指挥中心调度。") % {"n": name})
        level = HandlingLevel.STREET
    region = ancestor_at(grid, level, path)
    if region is None:  # a grid hung directly under a street, say
        reasons.append(_("未找到对应层级的区域，转上级处置。"))
        level, region = HandlingLevel.STREET, ancestor_at(grid, HandlingLevel.STREET, path)
    if level == HandlingLevel.COMMUNITY and not reasons:
        reasons.append(_("“%(n)s”由社区统筹处置。") % {"n": name})
    elif level == HandlingLevel.STREET and not reasons:
        reasons.append(_("“%(n)s”需街道指挥中心统筹调度。") % {"n": name})
    elif level == HandlingLevel.DISTRICT:
        reasons.append(_("“%(n)s”由区县指挥中心统筹。") % {"n": name})
    return RouteResult(level, region, reasons=reasons)
