"""Layers of the 民情地图 (people-and-conditions map), limited to what the role may see."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Sum
from django.urls import reverse
from django.utils.translation import gettext as _

from wangge.accounts.permissions import has_perm_at, path_filter, scope_paths
from wangge.core.exceptions import NotFound
from wangge.geo.models import Region

from .choices import ComponentStatus, SensitiveGroup
from .models import Component, House, Person, SensitiveGroupCount
from .selectors import subtree_q

MAX_POINTS = 5000

# Layers from apps above registers (the party app's 党员户): ``provider(user, grid_path)`` returns
# a layer dict (id, name, features) or None when the user may not see it. Registered in their
# AppConfig.ready, since registers cannot import them.
LayerProvider = Callable[[Any, str | None], dict[str, Any] | None]
_providers: list[LayerProvider] = []


def register_map_layer(provider: LayerProvider) -> None:
    if provider not in _providers:
        _providers.append(provider)


def _point(lon: float | None, lat: float | None, props: dict[str, Any]) -> dict[str, Any] | None:
    if lon is None or lat is None:
        return None
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": props,
    }


def _within(paths: list[str] | None, path: str) -> bool:
    return paths is None or any(path.startswith(p) for p in paths)


def _house_url(pk: int) -> str:
    return reverse("registers:house", args=[pk])


def map_layers_for_user(user: Any, grid_code: str | None = None) -> dict[str, Any]:
    paths = scope_paths(user, "registers.view_person")
    if paths == []:
        return {"layers": []}
    area: Any = path_filter("region_path", paths) if paths is not None else None
    grid_path: str | None = None
    if grid_code:
        region = Region.objects.filter(code=grid_code).first()
        if region is None or (
            paths is not None and not has_perm_at(user, "registers.view_person", region.path)
        ):
            raise NotFound(_("区域不存在或不在您的管辖范围内"))
        area = subtree_q(region.path)
        grid_path = region.path

    def scoped(qs: Any) -> Any:
        return qs.filter(area) if area is not None else qs

    layers = []
    # Households with elderly living alone: one point per house.
    houses = (
        scoped(Person.objects.filter(is_elderly_alone=True, erased_at__isnull=True))
        .exclude(house__isnull=True)
        .values(
            "house_id",
            "house__lon",
            "house__lat",
            "house__address",
            "house__region_path",
            "grid__code",
        )
        .distinct()[:MAX_POINTS]
    )
    people_url = reverse("registers:people")
    house_paths = scope_paths(user, "registers.view_house")
    # A click opens the house (its residents are listed there) when the user may see houses
    # individually; otherwise the grid's list of elderly people living alone.
    features = [
        _point(
            h["house__lon"],
            h["house__lat"],
            {
                "label": h["house__address"],
                "url": _house_url(h["house_id"])
                if _within(house_paths, h["house__region_path"])
                else f"{people_url}?flag=elderly_alone&grid={h['grid__code']}",
            },
        )
        for h in houses
    ]
    layers.append(
        {"id": "elderly_alone", "name": _("独居老人户"), "features": [f for f in features if f]}
    )
    if house_paths is None or house_paths:
        hazard = House.objects.exclude(hazards=[])
        if house_paths is not None:
            hazard = hazard.filter(path_filter("region_path", house_paths))
        if grid_code:
            hazard = hazard.filter(area)
        layers.append(
            {
                "id": "risk_points",
                "name": _("隐患房屋(风险点)"),
                "features": [
                    f
                    for f in (
                        _point(
                            h.lon,
                            h.lat,
                            {"label": h.address, "hazards": h.hazards, "url": _house_url(h.pk)},
                        )
                        for h in hazard[:MAX_POINTS]
                    )
                    if f
                ],
            }
        )
    comp_paths = scope_paths(user, "registers.view_component")
    if comp_paths is None or comp_paths:
        comps = Component.objects.all()
        if comp_paths is not None:
            comps = comps.filter(path_filter("region_path", comp_paths))
        if grid_code:
            comps = comps.filter(area)
        labels = dict(ComponentStatus.choices)
        layers.append(
            {
                "id": "components",
                "name": _("管理部件(按状态)"),
                "features": [
                    f
                    for f in (
                        _point(
                            c.lon,
                            c.lat,
                            {
                                "label": f"{c.class_name} {c.identifier}",
                                "status": c.status,
                                "status_label": str(labels.get(c.status, c.status)),
                                "url": reverse("registers:component", args=[c.pk]),
                            },
                        )
                        for c in comps.exclude(status=ComponentStatus.INTACT)[:MAX_POINTS]
                    )
                    if f
                ],
            }
        )
    # Special groups: counts per grid for everyone who may see people; individuals never.
    counts = (
        scoped(SensitiveGroupCount.objects.filter(count__gt=0))
        .values("grid_id", "grid__code", "grid__name", "grid__center_lon", "grid__center_lat")
        .annotate(total=Sum("count"))
    )
    layers.append(
        {
            "id": "special_groups",
            "name": _("特殊人群(按网格汇总)"),
            "features": [
                f
                for f in (
                    _point(
                        c["grid__center_lon"],
                        c["grid__center_lat"],
                        {
                            "label": f"{c['grid__name']}：{c['total']}",
                            "count": c["total"],
                            "url": reverse("registers:profile", args=[c["grid__code"]]),
                        },
                    )
                    for c in counts
                )
                if f
            ],
        }
    )
    for provider in _providers:
        layer = provider(user, grid_path)
        if layer is not None:
            layers.append(layer)
    return {"layers": layers, "groups": [str(label) for _v, label in SensitiveGroup.choices]}
