"""Test data for the party app: registers people created directly with the ORM, a party tree
over the shared ``tree`` fixture (street committee → community committees → one branch per
grid), members with logins, and orders."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from wangge.accounts.tests.factories import make_user
from wangge.geo.models import Region
from wangge.registers.models import Household, Person

from ..choices import OrgKind
from ..models import PartyMember, PartyOrg, ServiceOrder, Volunteer
from ..services import member_create, party_org_create, service_order_create, volunteer_register

_seq = itertools.count(1)
# Every weekday 08:00–20:00 and weekends 09:00–17:00.
ALWAYS = [[d, 8 * 60, 20 * 60] for d in range(5)] + [[d, 9 * 60, 17 * 60] for d in (5, 6)]


def make_person(
    grid: Region, name: str | None = None, household: Household | None = None
) -> Person:
    n = next(_seq)
    return Person.objects.create(
        grid=grid, region_path=grid.path, name=name or f"居民{n}", household=household
    )


def make_household(grid: Region) -> Household:
    return Household.objects.create(
        grid=grid, region_path=grid.path, household_no=f"H{next(_seq):08d}"
    )


def centre(region: Region) -> tuple[float, float]:
    return float(region.center_lon or 0.0), float(region.center_lat or 0.0)


@dataclass
class PartyWorld:
    tree: Any
    street_committees: list[PartyOrg] = field(default_factory=list)
    committees: list[PartyOrg] = field(default_factory=list)
    branches: dict[int, PartyOrg] = field(default_factory=dict)  # grid pk → branch

    def branch(self, grid: Region) -> PartyOrg:
        return self.branches[grid.pk]


def make_party_tree(tree: Any) -> PartyWorld:
    """街道党工委 per street, 社区党委 per community, 网格党支部 per grid."""
    world = PartyWorld(tree=tree)
    for street in tree.streets:
        sc = party_org_create(
            actor=None,
            kind=OrgKind.STREET_COMMITTEE,
            code=f"S{street.code}",
            name=f"{street.name}党工委",
            region=street,
            audit=False,
        )
        world.street_committees.append(sc)
        for community in [c for c in tree.communities if c.parent_id == street.pk]:
            cc = party_org_create(
                actor=None,
                kind=OrgKind.COMMUNITY_COMMITTEE,
                code=f"C{community.code}",
                name=f"{community.name}党委",
                region=community,
                parent=sc,
                audit=False,
            )
            world.committees.append(cc)
            for grid in [g for g in tree.grids if g.parent_id == community.pk]:
                world.branches[grid.pk] = party_org_create(
                    actor=None,
                    kind=OrgKind.GRID_BRANCH,
                    code=f"G{grid.code}",
                    name=f"{grid.name}党支部",
                    region=grid,
                    parent=cc,
                    audit=False,
                )
    return world


def make_member(
    branch: PartyOrg,
    *,
    specialties: list[str] | None = None,
    capacity: int = 2,
    username: str | None = None,
    lon: float | None = None,
    lat: float | None = None,
    availability: list[list[int]] | None = None,
    name: str | None = None,
    **extra: Any,
) -> PartyMember:
    grid = branch.region
    user = make_user(username, role="party_member", region=grid) if username else None
    member = member_create(
        actor=None,
        person=make_person(grid, name=name),
        branch=branch,
        specialties=specialties if specialties is not None else ["repair"],
        availability=ALWAYS if availability is None else availability,
        capacity=capacity,
        user=user,
        audit=False,
        **extra,
    )
    clon, clat = centre(grid)
    member.lon = clon if lon is None else lon
    member.lat = clat if lat is None else lat
    member.save(update_fields=["lon", "lat"])
    return member


def make_volunteer(
    region: Region, *, specialties: list[str], username: str | None = None, capacity: int = 2
) -> Volunteer:
    user = make_user(username, role="party_member", region=region) if username else None
    v = volunteer_register(
        actor=None,
        person=make_person(region if region.level == "grid" else region.children.first()),  # type: ignore[arg-type]
        region=region,
        specialties=specialties,
        availability=ALWAYS,
        capacity=capacity,
        user=user,
        audit=False,
    )
    v.lon, v.lat = centre(region)
    v.save(update_fields=["lon", "lat"])
    return v


def next_weekday_10(now: datetime | None = None) -> datetime:
    """10:00 Shanghai time on the next weekday after ``now``."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Shanghai")
    local = (now or timezone.now()).astimezone(tz) + timedelta(days=1)
    while local.weekday() >= 5:
        local += timedelta(days=1)
    return local.replace(hour=10, minute=0, second=0, microsecond=0)


def make_order(
    grid: Region,
    *,
    actor: Any,
    category: str = "repair",
    start: datetime | None = None,
    hours: int = 2,
    at_centre: bool = True,
    **extra: Any,
) -> ServiceOrder:
    start = start or next_weekday_10()
    lon, lat = centre(grid) if at_centre else (None, None)
    return service_order_create(
        actor=actor,
        category=category,
        description=extra.pop("description", "家里的水龙头漏水，需要帮忙修理"),
        window_start=start,
        window_end=start + timedelta(hours=hours),
        address=extra.pop("address", "1幢101室"),
        lon=lon,
        lat=lat,
        region=None if at_centre else grid,
        contact_name=extra.pop("contact_name", "张阿姨"),
        **extra,
    )
