"""Permission matrix of the party app: every page and API operation × (anon, none, in, out).

* anon — not signed in: pages redirect to the login page, the API answers 401;
* none — a resident of street 1 (no party permission, not involved in the objects): 403, or the
  data is hidden (404 for single objects, empty lists); pages every resident may use answer 200;
* in   — a community secretary granted on street 1's first grid (the branch there) asking about
  that grid: success;
* out  — the same secretary asking about an object of street 2: 404, or absent from lists.

A branch sees only its members' details: the secretary of grid 1 does not see grid 2's members
(same community) either. ``COVERED`` joins tests/test_permission_matrix.py's completeness check.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from wangge.accounts.tests.factories import make_user
from wangge.party.choices import OrderState
from wangge.party.models import ServiceOrder
from wangge.party.services import activity_plan, dual_report_request

from .factories import make_member, make_order, make_volunteer

pytestmark = pytest.mark.django_db

COVERED = {
    "party:dashboard",
    "party:order_new",
    "party:me",
    "party:orders",
    "party:order_match",
    "party:order_detail",
    "party:order_act",
    "party:dual_report_act",
    "party:activity_checkin",
    "GET /api/v1/party/orgs",
    "GET /api/v1/party/coverage",
    "GET /api/v1/party/members",
    "GET /api/v1/party/members/{member_id}",
    "GET /api/v1/party/households.geojson",
    "POST /api/v1/party/orders",
    "GET /api/v1/party/orders",
    "GET /api/v1/party/orders/{order_id}",
    "GET /api/v1/party/orders/{order_id}/candidates",
    "POST /api/v1/party/orders/{order_id}/transitions",
    "GET /api/v1/party/me",
    "party:time_exchange",
    "party:volunteer_register",
    "party:volunteers",
    "party:team_create",
    "party:volunteer_team",
    "GET /api/v1/party/volunteers",
    "POST /api/v1/party/volunteers",
    "GET /api/v1/party/me/statement",
    "POST /api/v1/party/me/exchange",
}


@dataclass
class World:
    users: dict[str, Any]
    grid_in: Any
    grid_out: Any
    branch_in: Any
    branch_out: Any
    member_in: Any
    member_out: Any
    order_in: Any
    order_out: Any
    dual_in: Any
    dual_out: Any
    activity_in: Any
    activity_out: Any
    neighbour: Any  # a member of grid 2 in street 1: another branch, same community


@pytest.fixture
def world(pw, tree) -> World:
    grid_in, grid_out = tree.grids[0], tree.grids[-1]
    users = {
        "none": make_user("resident", role="resident", region=tree.streets[0]),
        "in": make_user("secretary", role="community_secretary", region=grid_in),
        "asker": make_user("asker", role="resident", region=grid_in),
    }
    member_in = make_member(pw.branch(grid_in), username="m_in", name="党员甲", in_service=True)
    member_out = make_member(pw.branch(grid_out), username="m_out", name="党员乙", in_service=True)
    neighbour = make_member(pw.branch(tree.grids[1]), name="邻支部党员")
    order_in = make_order(grid_in, actor=users["asker"])
    order_out = make_order(grid_out, actor=make_user("asker2", role="resident", region=grid_out))
    now = timezone.now()
    return World(
        users=users,
        grid_in=grid_in,
        grid_out=grid_out,
        branch_in=pw.branch(grid_in),
        branch_out=pw.branch(grid_out),
        member_in=member_in,
        member_out=member_out,
        order_in=order_in,
        order_out=order_out,
        # 双报到 is decided by the community reported to (street 1's first one for "in").
        dual_in=dual_report_request(
            actor=None, member=member_out, community=tree.communities[0], commitments=["助老"]
        ),
        dual_out=dual_report_request(
            actor=None, member=member_in, community=tree.communities[-1], commitments=["助老"]
        ),
        activity_in=activity_plan(
            actor=None,
            branch=pw.branch(grid_in),
            kind="theme_day",
            title="IN-ACT",
            starts_at=now,
            ends_at=now + timedelta(hours=2),
        ),
        activity_out=activity_plan(
            actor=None,
            branch=pw.branch(grid_out),
            kind="theme_day",
            title="OUT-ACT",
            starts_at=now,
            ends_at=now + timedelta(hours=2),
        ),
        neighbour=neighbour,
    )


def client_for(world: World, scenario: str, role: str = "in") -> Client:
    c = Client()
    if scenario == "none":
        c.force_login(world.users["none"])
    elif scenario in ("in", "out"):
        c.force_login(world.users[role])
    return c


SCENARIOS = ("anon", "none", "in", "out")


def _get(c: Client, url: str) -> Any:
    return c.get(url)


def _post(c: Client, url: str, data: dict[str, Any]) -> Any:
    return c.post(url, data)


def _api_post(c: Client, url: str, data: dict[str, Any]) -> Any:
    return c.post(url, json.dumps(data, default=str), content_type="application/json")


def _login(response: Any) -> None:
    assert response.status_code == 302 and response["Location"].startswith("/login/?next=")


# --- pages -------------------------------------------------------------------
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_dashboard(world, scenario):
    c = client_for(world, scenario)
    branch = world.branch_out if scenario == "out" else world.branch_in
    r = c.get(f"/party/?branch={branch.pk}")
    if scenario == "anon":
        return _login(r)
    expected = {"none": 403, "in": 200, "out": 404}[scenario]
    assert r.status_code == expected
    if scenario == "in":
        body = r.content.decode()
        assert "党员甲" in body and world.branch_in.name in body
        assert "邻支部党员" not in body and "党员乙" not in body


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_personal_pages_need_only_a_login(world, scenario):
    c = client_for(world, scenario)
    for url in ("/party/order/", "/party/me/"):
        r = c.get(url)
        if scenario == "anon":
            _login(r)
        else:
            assert r.status_code == 200


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_order_list(world, scenario):
    r = client_for(world, scenario).get("/party/orders/")
    if scenario == "anon":
        return _login(r)
    if scenario == "none":
        assert r.status_code == 403
        return
    assert r.status_code == 200
    body = r.content.decode()
    assert world.order_in.code in body and world.order_out.code not in body


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_batch_match_page(world, scenario):
    make_member(world.branch_out, specialties=["repair"])
    r = client_for(world, scenario).post("/party/orders/match/")
    if scenario == "anon":
        return _login(r)
    if scenario == "none":
        assert r.status_code == 403
    else:
        assert r.status_code == 302
        world.order_in.refresh_from_db()
        assert world.order_in.state == OrderState.ASSIGNED
    world.order_out.refresh_from_db()
    assert world.order_out.state == OrderState.POSTED  # never touched from street 1


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_order_detail_and_act(world, scenario):
    order = world.order_out if scenario == "out" else world.order_in
    c = client_for(world, scenario)
    r = c.get(f"/party/orders/{order.pk}/")
    act = c.post(
        f"/party/orders/{order.pk}/act/",
        {"action": "cancel", "version": order.version, "reason": "重复点单"},
    )
    if scenario == "anon":
        _login(r)
        _login(act)
    elif scenario in ("none", "out"):
        assert r.status_code == 404 and act.status_code == 404
    else:
        assert r.status_code == 200 and order.code in r.content.decode()
        assert "匹配推荐" in r.content.decode()
        assert act.status_code == 302
    order.refresh_from_db()
    assert (order.state == OrderState.CANCELLED) == (scenario == "in")


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_dual_report_act(world, scenario):
    report = world.dual_out if scenario == "out" else world.dual_in
    # Dual reports are decided by the community: the "in" caller is its secretary.
    community_secretary = make_user("cs", role="community_secretary", region=report.community)
    c = client_for(world, scenario)
    if scenario in ("in", "out"):
        c.force_login(world.users["in"] if scenario == "out" else community_secretary)
    r = c.post(
        f"/party/dual-reports/{report.pk}/act/", {"action": "approve", "version": report.version}
    )
    if scenario == "anon":
        _login(r)
    elif scenario in ("none", "out"):
        assert r.status_code == 404
    else:
        assert r.status_code == 302
    report.refresh_from_db()
    assert (report.state == "approved") == (scenario == "in")


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_activity_checkin_page(world, scenario):
    activity = world.activity_out if scenario == "out" else world.activity_in
    r = client_for(world, scenario).get(f"/party/activities/{activity.pk}/checkin/")
    if scenario == "anon":
        return _login(r)
    expected = {"none": 404, "in": 200, "out": 404}[scenario]
    assert r.status_code == expected


def test_a_member_signs_in_by_the_qr_page(world):
    c = Client()
    c.force_login(world.member_in.user)
    a = world.activity_in
    r = c.post(f"/party/activities/{a.pk}/checkin/?code={a.checkin_code}", {"code": a.checkin_code})
    assert r.status_code == 302
    assert a.attendance.filter(member=world.member_in).exists()


# --- API -------------------------------------------------------------------
def _status(r: Any) -> int:
    return r.status_code


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_api_lists(world, scenario):
    c = client_for(world, scenario)
    orgs = c.get("/api/v1/party/orgs")
    members = c.get("/api/v1/party/members")
    orders = c.get("/api/v1/party/orders")
    layer = c.get("/api/v1/party/households.geojson")
    cov = c.get("/api/v1/party/coverage")
    if scenario == "anon":
        assert {_status(x) for x in (orgs, members, orders, layer, cov)} == {401}
        return
    assert {_status(x) for x in (orgs, members, orders, layer, cov)} == {200}
    org_codes = {o["code"] for o in orgs.json()}
    names = {m["name"] for m in members.json()}
    codes = {o["code"] for o in orders.json()["results"]}
    if scenario == "none":
        assert org_codes == set() and names == set() and orders.json()["count"] == 0
        assert layer.json()["features"] == [] and cov.json()["grids"] == 0
        return
    assert world.branch_in.code in org_codes and world.branch_out.code not in org_codes
    assert "党员甲" in names and "党员乙" not in names and "邻支部党员" not in names
    assert world.order_in.code in codes and world.order_out.code not in codes
    assert len(layer.json()["features"]) == 1  # 党员甲's home only
    assert cov.json()["grids"] == 1


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_api_single_objects(world, scenario):
    c = client_for(world, scenario)
    side_member = world.member_out if scenario == "out" else world.member_in
    order = world.order_out if scenario == "out" else world.order_in
    m = c.get(f"/api/v1/party/members/{side_member.pk}")
    o = c.get(f"/api/v1/party/orders/{order.pk}")
    cand = c.get(f"/api/v1/party/orders/{order.pk}/candidates")
    t = _api_post(
        c,
        f"/api/v1/party/orders/{order.pk}/transitions",
        {"action": "cancel", "expected_version": order.version, "reason": "重复"},
    )
    got = [_status(x) for x in (m, o, cand, t)]
    if scenario == "anon":
        assert got == [401] * 4
    elif scenario in ("none", "out"):
        assert got == [404] * 4
    else:
        assert got == [200] * 4
        assert cand.json()["ranked"][0]["helper"] == f"member:{world.member_in.pk}"
        assert t.json()["state"] == "cancelled"
    order.refresh_from_db()
    assert (order.state == OrderState.CANCELLED) == (scenario == "in")


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_api_order_create_and_me(world, scenario):
    c = client_for(world, scenario)
    start = timezone.now() + timedelta(days=1)
    grid = world.grid_out if scenario == "out" else world.grid_in
    body = {
        "category": "errands",
        "description": "帮忙买药",
        "window_start": start.isoformat(),
        "window_end": (start + timedelta(hours=3)).isoformat(),
        "contact_name": "李大爷",
    }
    if scenario != "none":
        body["region"] = grid.code
    r = _api_post(c, "/api/v1/party/orders", body)
    me = c.get("/api/v1/party/me")
    before = ServiceOrder.objects.count()
    if scenario == "anon":
        assert r.status_code == 401 and me.status_code == 401
        return
    assert me.status_code == 200
    if scenario == "out":
        assert r.status_code == 404
        assert ServiceOrder.objects.count() == before
    else:
        assert r.status_code == 201, r.content
        created = ServiceOrder.objects.get(code=r.json()["code"])
        assert created.region_path.startswith(world.grid_in.path if scenario == "in" else "/")
        if scenario == "none":
            assert created.requester == world.users["none"]


# --- volunteers and the time bank (issue 5 follow-up) ------------------------------------------
@dataclass
class Volunteers:
    vol_in: Any
    vol_out: Any
    team_in: Any
    team_out: Any


@pytest.fixture
def vols(world) -> Volunteers:
    from wangge.party.services import volunteer_team_create

    return Volunteers(
        vol_in=make_volunteer(world.grid_in, specialties=["law"]),
        vol_out=make_volunteer(world.grid_out, specialties=["law"]),
        team_in=volunteer_team_create(actor=None, name="IN-TEAM", region=world.grid_in),
        team_out=volunteer_team_create(actor=None, name="OUT-TEAM", region=world.grid_out),
    )


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_volunteer_list_page(world, vols, scenario):
    r = client_for(world, scenario).get("/party/volunteers/")
    if scenario == "anon":
        return _login(r)
    if scenario == "none":
        assert r.status_code == 403
        return
    assert r.status_code == 200
    body = r.content.decode()
    assert vols.vol_in.person.name in body and "IN-TEAM" in body
    assert vols.vol_out.person.name not in body and "OUT-TEAM" not in body


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_team_create_and_add_pages(world, vols, scenario):
    from wangge.party.models import VolunteerTeam

    grid = world.grid_out if scenario == "out" else world.grid_in
    vol = vols.vol_out if scenario == "out" else vols.vol_in
    team = vols.team_out if scenario == "out" else vols.team_in
    c = client_for(world, scenario)
    created = c.post("/party/volunteers/teams/", {"region": grid.pk, "name": "NEW-TEAM"})
    added = c.post(f"/party/volunteers/{vol.pk}/team/", {"team": team.pk})
    if scenario == "anon":
        _login(created)
        _login(added)
    elif scenario == "none":
        assert created.status_code == 403 and added.status_code == 403
    elif scenario == "out":
        assert created.status_code == 404 and added.status_code == 404
    else:
        assert created.status_code == 302 and added.status_code == 302
    assert VolunteerTeam.objects.filter(name="NEW-TEAM").exists() == (scenario == "in")
    vol.refresh_from_db()
    assert (vol.team_id == team.pk) == (scenario == "in")


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_volunteer_register_page(world, scenario):
    """Every signed-in resident may open it; "in" is a member (a register person) who
    registers with their own community; "none" has no register record: refused."""
    from wangge.party.models import Volunteer

    c = client_for(world, scenario)
    if scenario == "in":
        c.force_login(world.member_in.user)
    get = c.get("/party/volunteer/")
    post = c.post(
        "/party/volunteer/",
        {"specialties": ["law"], "weekdays": ["1"], "periods": ["morning"], "capacity": "1"},
    )
    if scenario == "anon":
        _login(get)
        _login(post)
        return
    assert get.status_code == 200
    if scenario == "in":
        assert post.status_code == 302
        v = Volunteer.objects.get(user=world.member_in.user)
        assert v.region == world.grid_in.parent
    else:
        assert post.status_code == 422
        assert not Volunteer.objects.filter(user=c.session.get("_auth_user_id")).exists()


def _fund(world, member, minutes: int) -> None:
    from wangge.party.choices import TransferKind
    from wangge.party.services import account_for_org, account_for_person, timebank_transfer

    timebank_transfer(
        actor=None,
        debit=account_for_org(member.branch),
        credit=account_for_person(member.person),
        minutes=minutes,
        kind=TransferKind.SERVICE,
        reason="服务存入",
    )


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_time_exchange_page(world, scenario):
    """Personal: "in" is member 甲 spending their own minutes; nobody can touch another
    person's account (member 乙 of street 2 keeps theirs whatever happens)."""
    from wangge.party.services import account_for_person

    _fund(world, world.member_in, 100)
    _fund(world, world.member_out, 100)
    c = client_for(world, scenario)
    if scenario == "in":
        c.force_login(world.member_in.user)
    r = c.post("/party/me/exchange/", {"minutes": "30", "reason": "理发"})
    if scenario == "anon":
        _login(r)
    else:
        assert r.status_code == 302
    expected = 70 if scenario == "in" else 100
    assert account_for_person(world.member_in.person).balance == expected
    assert account_for_person(world.member_out.person).balance == 100


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_api_volunteers(world, vols, scenario):
    c = client_for(world, scenario)
    r = c.get("/api/v1/party/volunteers")
    if scenario == "anon":
        assert r.status_code == 401
        return
    assert r.status_code == 200
    ids = {v["id"] for v in r.json()}
    if scenario == "none":
        assert ids == set()
    else:
        assert vols.vol_in.pk in ids and vols.vol_out.pk not in ids


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_api_register_self_statement_and_exchange(world, scenario):
    from wangge.party.models import Volunteer

    _fund(world, world.member_in, 100)
    c = client_for(world, scenario)
    if scenario in ("in", "out"):
        c.force_login(world.member_in.user)
    reg = _api_post(
        c, "/api/v1/party/volunteers", {"specialties": ["law"], "availability": [[1, 480, 720]]}
    )
    st = c.get("/api/v1/party/me/statement")
    ex = _api_post(c, "/api/v1/party/me/exchange", {"minutes": 25, "reason": "保洁"})
    if scenario == "anon":
        assert [reg.status_code, st.status_code, ex.status_code] == [401] * 3
        return
    assert st.status_code == 200
    if scenario == "none":
        assert reg.status_code == 422 and ex.status_code == 422
        assert st.json() == {"balance": 0, "entries": []}
        return
    if scenario == "in":
        assert reg.status_code == 201 and ex.status_code == 201
        assert ex.json()["balance"] == 75 and st.json()["balance"] == 100
    else:
        # The second registration is a conflict; only one's own community is ever used.
        assert reg.status_code == 201
        again = _api_post(
            c, "/api/v1/party/volunteers", {"specialties": ["law"], "availability": []}
        )
        assert again.status_code == 409
    v = Volunteer.objects.get(user=world.member_in.user)
    assert v.region_path.startswith(world.grid_in.parent.path)
    assert not Volunteer.objects.filter(region_path__startswith=world.grid_out.path).exists()
