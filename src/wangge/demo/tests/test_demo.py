"""The demo city: the full-size plan is checked in memory (geometry, codes, counts); the
database load, logins, idempotency and rebuild are checked on the small city."""

from __future__ import annotations

from io import StringIO

import pytest
import shapely
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.utils import translation
from shapely.geometry import shape

from wangge.accounts.models import Role, RoleAssignment, User
from wangge.accounts.roles import SYSTEM_ROLES
from wangge.accounts.tests.factories import make_user
from wangge.core.audit import audit_verify
from wangge.core.exceptions import Conflict
from wangge.core.models import AuditRecord
from wangge.demo import DEMO_LOGINS, DEMO_PASSWORD, demo_is_loaded
from wangge.demo.city import (
    DEFAULT_SEED,
    HOUSEHOLDS_DEDICATED,
    HOUSEHOLDS_ORDINARY,
    PERSONS_PER_HOUSEHOLD,
    CityPlan,
    PlannedRegion,
    plan_city,
    plan_digest,
)
from wangge.demo.services import demo_load, demo_logins
from wangge.demo.users import LOGIN_SPECS, ROLE_LABELS, anchors, plan_users
from wangge.geo.choices import GridType, Level
from wangge.geo.codes import code_problems
from wangge.geo.models import LocatorGeneration, Region
from wangge.geo.services import region_create

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def city() -> CityPlan:
    return plan_city(DEFAULT_SEED)


def _parents(plan: CityPlan) -> list[PlannedRegion]:
    return [r for r in plan.regions() if r.geom is not None and r.children]


# --- the full-size plan, in memory -------------------------------------------------------------


def test_full_city_has_the_sizes_the_issue_asks_for(city):
    counts = city.counts()
    assert counts["county"] == 1
    assert counts["street"] >= 6
    assert counts["community"] >= 40
    assert counts["grid"] >= 400
    for grid in city.at_level(Level.GRID):
        assert 2 <= len(grid.children) <= 4


def test_ancestors_are_jiangsu_suzhou_gusu(city):
    assert (city.province.code, city.province.name) == ("320000", "江苏省")
    assert (city.city.code, city.city.name) == ("320500", "苏州市")
    assert (city.district.code, city.district.name) == ("320508", "姑苏区")


def test_every_code_is_valid_unique_and_extends_its_parents(city):
    codes = [r.code for r in city.regions()]
    assert len(codes) == len(set(codes))
    for region in city.regions():
        assert code_problems(region.level, region.code, region.parent_code) == [], region.code
        for seq, child in enumerate(region.children, start=1):
            if child.level in (Level.STREET, Level.COMMUNITY, Level.GRID, Level.MICRO_GRID):
                assert child.code == f"{region.code}{seq:03d}"


def test_district_sits_at_suzhou_old_town_and_is_not_a_rectangle(city):
    geom = city.district.geom
    min_lon, min_lat, max_lon, max_lat = geom.bounds
    assert 120.57 < min_lon < max_lon < 120.67
    assert 31.26 < min_lat < max_lat < 31.35
    assert len(geom.exterior.coords) > 10
    assert geom.area < 0.9 * geom.envelope.area


def test_children_tile_their_parent_without_overlaps(city):
    for parent in _parents(city):
        children = [c.geom for c in parent.children]
        for child in children:
            assert child.geom_type == "Polygon" and child.is_valid, parent.code
        total = sum(c.area for c in children)
        assert abs(total - parent.geom.area) <= 1e-3 * parent.geom.area, parent.code
        uncovered = shapely.difference(parent.geom, shapely.union_all(children)).area
        assert uncovered <= 1e-6 * parent.geom.area, parent.code
        tree = shapely.STRtree(children)
        left, right = tree.query(children, predicate="intersects")
        for i, j in zip(left, right, strict=True):
            if i < j:
                overlap = shapely.intersection(children[i], children[j]).area
                assert overlap <= 1e-9 * parent.geom.area, (parent.code, i, j)


def test_grids_are_numbered_west_to_east_then_north_to_south(city):
    for community in city.at_level(Level.COMMUNITY):
        first, last = community.children[0].geom.centroid, community.children[-1].geom.centroid
        assert first.y > last.y, community.code


def test_households_and_population_are_realistic_and_add_up(city):
    grids = city.at_level(Level.GRID)
    ordinary = [g for g in grids if g.grid_type == GridType.ORDINARY]
    dedicated = [g for g in grids if g.grid_type == GridType.DEDICATED]
    assert len(dedicated) >= 10 and len(ordinary) > 10 * len(dedicated)
    low, high = PERSONS_PER_HOUSEHOLD
    for grid in ordinary:
        assert HOUSEHOLDS_ORDINARY[0] <= grid.households <= HOUSEHOLDS_ORDINARY[1]
        assert grid.name.endswith("网格")
        assert low * grid.households - 1 <= grid.population <= high * grid.households + 1
    for grid in dedicated:
        assert HOUSEHOLDS_DEDICATED[0] <= grid.households <= HOUSEHOLDS_DEDICATED[1]
        assert grid.name.endswith("专属网格")
    assert len({g.name for g in dedicated}) == len(dedicated)
    for parent in city.regions():
        if parent.level in (Level.COUNTY, Level.STREET, Level.COMMUNITY, Level.GRID):
            assert parent.households == sum(c.households for c in parent.children)
            assert parent.population == sum(c.population for c in parent.children)


def test_same_seed_gives_the_same_city_and_another_seed_does_not(city):
    assert plan_digest(plan_city(DEFAULT_SEED)) == plan_digest(city)
    assert plan_digest(plan_city(7, small=True)) != plan_digest(plan_city(8, small=True))


def test_small_city_is_the_first_street_of_the_full_one(city):
    small = plan_city(DEFAULT_SEED, small=True)
    assert small.counts()["street"] == 1
    assert small.counts()["community"] == 2
    assert small.counts()["grid"] == 8
    full_street = city.district.children[0]
    small_street = small.district.children[0]
    assert (small_street.code, small_street.name) == (full_street.code, full_street.name)
    assert small_street.geom.equals(full_street.geom)
    assert small_street.children[0].name == full_street.children[0].name


def test_documented_logins_match_the_default_city(city):
    at = anchors(city)
    where = {spec.username: at[spec.anchor].name for spec in LOGIN_SPECS}
    assert [(login.username, login.region) for login in DEMO_LOGINS] == list(where.items())


def test_there_is_a_login_for_every_system_role_with_its_label():
    assert {spec.role for spec in LOGIN_SPECS} == set(SYSTEM_ROLES)
    with translation.override("zh-hans"):
        for code, spec in SYSTEM_ROLES.items():
            assert ROLE_LABELS[code] == str(spec["name"])
    assert {login.role for login in DEMO_LOGINS} == set(ROLE_LABELS.values())


def test_generated_staff_cover_every_street_community_and_grid(city):
    users = plan_users(city)
    usernames = [u.username for u in users]
    assert len(usernames) == len(set(usernames))
    mobiles = [u.mobile for u in users if u.mobile]
    assert len(mobiles) == len(set(mobiles))
    for role, level in (
        ("street_dispatcher", Level.STREET),
        ("community_secretary", Level.COMMUNITY),
        ("grid_worker", Level.GRID),
    ):
        staffed = {u.region_code for u in users if u.role == role}
        assert staffed == {r.code for r in city.at_level(level)}
    assert all(2 <= len(u.display_name) <= 3 for u in users)


# --- the small city in the database ----------------------------------------------------------


@pytest.fixture
def loaded() -> None:
    demo_load(small=True)


def test_load_writes_the_tree_with_paths_codes_and_boundaries(loaded):
    plan = plan_city(DEFAULT_SEED, small=True)
    district = Region.objects.get(code="320508")
    subtree = Region.objects.filter(path__startswith=district.path)
    assert subtree.count() == len(list(plan.district.walk()))
    for region in subtree.select_related("parent"):
        assert region.path == f"{region.parent.path}{region.pk}/"
        assert region.depth == region.parent.depth + 1
        assert code_problems(region.level, region.code, region.parent.code) == []
        assert region.boundary is not None and region.area_m2 > 0
    street = Region.objects.get(code="320508001")
    grids = Region.objects.filter(parent__parent=street, level=Level.GRID)
    assert street.households == sum(g.households for g in grids)
    stored = [shape(c.boundary) for c in street.children.all()]
    assert sum(g.area for g in stored) == pytest.approx(shape(street.boundary).area, rel=1e-3)
    assert demo_is_loaded()
    assert LocatorGeneration.objects.get().generation >= 1


def test_every_demo_login_signs_in_by_username_and_the_workers_by_mobile(loaded, rf):
    request = rf.post("/login/")
    for spec in LOGIN_SPECS:
        assert authenticate(request, username=spec.username, password=DEMO_PASSWORD), spec
    gridworker = authenticate(request, username="13800000001", password=DEMO_PASSWORD)
    resident = authenticate(request, username="13900000001", password=DEMO_PASSWORD)
    assert gridworker is not None and gridworker.username == "gridworker"
    assert resident is not None and resident.username == "resident"
    generated = User.objects.filter(username__startswith="gw").first()
    assert authenticate(request, username=generated.username, password=DEMO_PASSWORD)


def test_logins_hold_their_roles_where_documented(loaded):
    assert demo_logins() == DEMO_LOGINS
    admin = User.objects.get(username="admin")
    assert admin.is_superuser
    assert User.objects.get(username="dept").title == "城管执法"
    gridworker = RoleAssignment.objects.get(user__username="gridworker")
    assert gridworker.role.code == "grid_worker"
    assert gridworker.region.code == "320508001001001"
    micro = RoleAssignment.objects.get(user__username="microgrid")
    assert micro.region.parent == gridworker.region
    grids = Region.objects.filter(level=Level.GRID).count()
    assert RoleAssignment.objects.filter(role__code="grid_worker").count() == grids


def test_loading_again_changes_nothing(loaded):
    regions, users = Region.objects.count(), User.objects.count()
    assert demo_load(small=True).created is False
    out = StringIO()
    call_command("demo", "--small", stdout=out)
    assert "已加载" in out.getvalue()
    assert (Region.objects.count(), User.objects.count()) == (regions, users)
    assert AuditRecord.objects.filter(action="demo.load").count() == 1


def test_force_rebuilds_only_the_demo_and_keeps_the_audit_chain(loaded):
    regions = Region.objects.count()
    result = demo_load(small=True, force=True)
    assert result.created and result.rebuilt
    assert Region.objects.count() == regions
    assert AuditRecord.objects.filter(action="demo.load").count() == 2
    assert list(audit_verify()) == []
    assert User.objects.get(username="admin").check_password(DEMO_PASSWORD)


def test_force_refuses_when_the_district_holds_data_the_demo_did_not_create(loaded):
    street = Region.objects.get(code="320508001")
    outsider = make_user("zhangsan", role="grid_worker", region=street)
    with pytest.raises(Conflict):
        demo_load(small=True, force=True)
    assert RoleAssignment.objects.filter(user=outsider).exists()
    RoleAssignment.objects.filter(user=outsider).delete()
    community = Region.objects.get(code="320508001001")
    region_create(
        actor=None,
        level=Level.GRID,
        code="320508001001099",
        name="外来网格",
        parent=community,
        audit=False,
    )
    with pytest.raises(Conflict):
        demo_load(small=True, force=True)
    assert Region.objects.filter(code="320508001001099").exists()


def test_a_real_district_with_the_same_code_is_never_overwritten():
    province = region_create(
        actor=None, level=Level.PROVINCE, code="320000", name="江苏省", parent=None, audit=False
    )
    city = region_create(
        actor=None, level=Level.CITY, code="320500", name="苏州市", parent=province, audit=False
    )
    region_create(
        actor=None, level=Level.COUNTY, code="320508", name="姑苏区", parent=city, audit=False
    )
    with pytest.raises(Conflict):
        demo_load(small=True, force=True)
    with pytest.raises(CommandError, match="不是演示数据"):
        call_command("demo", "--small", stdout=StringIO())
    assert not demo_is_loaded()
    assert Region.objects.count() == 3


def test_command_prints_counts_and_logins():
    assert Role.objects.filter(code="grid_worker").exists()
    out = StringIO()
    call_command("demo", "--small", stdout=out)
    text = out.getvalue()
    assert "网格 8" in text
    assert "gridworker" in text and DEMO_PASSWORD in text
    assert AuditRecord.objects.filter(action="demo.load").count() == 1


def test_a_smaller_rebuild_drops_unused_accounts_but_keeps_those_in_the_audit_log(
    loaded, monkeypatch
):
    from wangge.core.audit import audit_log
    from wangge.demo import city as city_module

    last_grid = Region.objects.filter(level=Level.GRID).order_by("code").last()
    worker = User.objects.get(username=f"gw{last_grid.code}")
    audit_log(actor=worker, action="test.patrol", object_type="test", object_id=1)
    idle = User.objects.get(username=f"gw{last_grid.code[:-3]}003")
    monkeypatch.setattr(city_module, "SMALL_GRIDS", 2)
    demo_load(small=True, force=True)
    assert Region.objects.filter(level=Level.GRID).count() == 4
    worker.refresh_from_db()
    assert not worker.is_active and not worker.assignments.exists()
    assert not User.objects.filter(pk=idle.pk).exists()
    assert list(audit_verify()) == []
