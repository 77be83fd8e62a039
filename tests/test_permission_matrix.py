"""Permission matrix: every page and API endpoint × who is asking.

Columns (scenarios):
* ``anon``  — not signed in: pages redirect to the login page, the API answers 401;
* ``none``  — signed in (a resident in street 1) without the endpoint's permission: 403, or the
  data is hidden (empty list / 404 for a single object);
* ``in``    — holding the permission in street 1, asking for an object in street 1: success;
* ``out``   — holding the permission in street 1, asking for an object in street 2: 404 (or the
  object is absent from a list).

``test_matrix_covers_every_endpoint`` fails when a page or API operation is added without a row
here: add one to ``ROWS`` (and to the table in ``docs/permissions.md``). An app with its own matrix
(its own world of objects, same four scenarios) keeps it in ``wangge/<app>/tests/test_matrix.py``
and lists the endpoint names that file covers in a module-level ``COVERED`` set.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from wangge.accounts.models import RoleAssignment
from wangge.accounts.services import api_token_create
from wangge.accounts.tests.factories import make_user
from wangge.core.audit import audit_log
from wangge.web.tests.helpers import role_pk

SCENARIOS = ("anon", "none", "in", "out")
LOGIN = "/login/"


@dataclass
class World:
    tree: Any
    users: dict[str, Any]
    region_in: Any
    region_out: Any
    target_in: Any
    target_out: Any
    assignment_in: Any
    assignment_out: Any
    token_in: Any
    token_out: Any
    cases: Any = None  # CaseObjects, only for rows that need them


@pytest.fixture(autouse=True)
def _fast_hasher(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(tree) -> World:
    street1, street2 = tree.streets
    grid_in = tree.grids[0]  # street 1
    grid_out = tree.grids[-1]  # street 2
    assert grid_in.path.startswith(street1.path) and grid_out.path.startswith(street2.path)
    users = {
        "resident": make_user("resident", role="resident", region=street1),
        "grid_worker": make_user("worker", role="grid_worker", region=street1),
        "secretary": make_user("secretary", role="community_secretary", region=street1),
        "admin": make_user("admin1", role="sysadmin", region=street1),
        "dispatcher": make_user("dispatcher", role="street_dispatcher", region=street1),
        "dept": make_user("dept", role="department_staff", region=street1),
    }
    target_in = make_user("target_in", role="grid_worker", region=grid_in)
    target_out = make_user("target_out", role="grid_worker", region=grid_out)
    token_in, _ = api_token_create(actor=None, user=target_in, name="in")
    token_out, _ = api_token_create(actor=None, user=target_out, name="out")
    audit_log(actor="seed", action="test.in_area", region_path=grid_in.path, object_repr="IN-REC")
    audit_log(
        actor="seed", action="test.out_of_area", region_path=grid_out.path, object_repr="OUT-REC"
    )
    return World(
        tree=tree,
        users=users,
        region_in=grid_in,
        region_out=grid_out,
        target_in=target_in,
        target_out=target_out,
        assignment_in=RoleAssignment.objects.get(user=target_in),
        assignment_out=RoleAssignment.objects.get(user=target_out),
        token_in=token_in,
        token_out=token_out,
    )


@dataclass
class CaseObjects:
    case_in: Any
    case_out: Any
    subtask_in: Any
    subtask_out: Any


def _make_cases(world: World) -> CaseObjects:
    """A case in each street (its own factories), plus a co-handling sub-task for a department
    the street-1 ``dept`` user belongs to, and one for another department in street 2."""
    from types import SimpleNamespace

    from django.core.cache import cache

    from wangge.cases.choices import CaseState
    from wangge.cases.models import Department, SubTask
    from wangge.cases.tests.factories import load_small_catalogue, make_case
    from wangge.geo import locator

    cache.clear()  # the public intake's rate limit
    locator.reset()  # its index is per process; the tree is new in this test database
    tree = world.tree
    ctx = SimpleNamespace(matters=load_small_catalogue(), grid=world.region_in)
    case_in = make_case(ctx, state=CaseState.IN_PROGRESS, assignee=world.users["grid_worker"])  # type: ignore[arg-type]
    case_out = make_case(ctx, state=CaseState.IN_PROGRESS, grid=world.region_out)  # type: ignore[arg-type]
    dept = Department.objects.create(code="CG", name="城管", region=tree.streets[0])
    other = Department.objects.create(code="SZ", name="市政", region=tree.streets[1])
    dept.members.add(world.users["dept"])
    subtask_in = SubTask.objects.create(case=case_in, department=dept, role="co", state="pending")
    subtask_out = SubTask.objects.create(
        case=case_out, department=other, role="co", state="pending"
    )
    return CaseObjects(case_in, case_out, subtask_in, subtask_out)


def _case(w: World, side: str) -> Any:
    return w.cases.case_in if side == "in" else w.cases.case_out


def _photo(w: World, side: str) -> dict[str, Any]:
    from django.core.files.uploadedfile import SimpleUploadedFile

    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    return {"kind": "after", "file": SimpleUploadedFile("after.png", png, "image/png")}


def _case_photo_url(w: World, side: str) -> str:
    from wangge.cases.services import attachment_add

    case = _case(w, side)
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    attachment = attachment_add(actor=None, case=case, kind="before", content=png)
    return f"/cases/{case.pk}/photos/{attachment.pk}/"


Url = Callable[[World, str], str]  # (world, "in" | "out") -> path


@dataclass(frozen=True)
class Row:
    name: str  # URL name ("web:…") or API "METHOD /api/v1/…" as in the OpenAPI schema
    method: str
    url: Url
    role: str  # a key of world.users holding the permission in street 1
    expect: dict[str, int | str]  # scenario -> status, or "hidden" (200 without the object)
    data: Callable[[World, str], dict[str, Any]] = field(default=lambda w, side: {})
    # Text that must appear (in) / must not appear (out, "hidden") in the response.
    marker: Callable[[World, str], str] | None = None
    json: bool = False  # send ``data`` as a JSON body
    needs_cases: bool = False  # the row uses ``world.cases`` (created on demand)


def _region(w: World, side: str) -> Any:
    return w.region_in if side == "in" else w.region_out


def _target(w: World, side: str) -> Any:
    return w.target_in if side == "in" else w.target_out


PAGE = {"anon": "login", "none": 403, "in": 200, "out": 404}
POST_PAGE = {"anon": "login", "none": 403, "in": 302, "out": 404}
API_ONE = {"anon": 401, "none": 404, "in": 200, "out": 404}

ROWS: list[Row] = [
    # --- pages -------------------------------------------------------------------------------
    Row("web:home", "GET", lambda w, s: "/", "resident", {"anon": "login", "none": 200}),
    Row(
        "web:regions",
        "GET",
        lambda w, s: "/regions/",
        "grid_worker",
        {"anon": "login", "none": 403, "in": 200, "out": "hidden"},
        marker=lambda w, s: w.tree.streets[0 if s == "in" else 1].name,
    ),
    Row("web:region", "GET", lambda w, s: f"/regions/{_region(w, s).code}/", "grid_worker", PAGE),
    Row(
        "web:region_children",
        "GET",
        lambda w, s: f"/regions/{_region(w, s).parent.code}/children/",
        "grid_worker",
        PAGE,
    ),
    Row(
        "web:region_geojson",
        "GET",
        lambda w, s: f"/regions/{_region(w, s).code}/children.geojson",
        "grid_worker",
        PAGE,
    ),
    Row(
        "web:search",
        "GET",
        lambda w, s: "/search/?q=网格",
        "grid_worker",
        {"anon": "login", "none": 403, "in": 200, "out": "hidden"},
        marker=lambda w, s: _region(w, s).code,
    ),
    Row(
        "web:users",
        "GET",
        lambda w, s: "/users/",
        "secretary",
        {"anon": "login", "none": 403, "in": 200, "out": "hidden"},
        marker=lambda w, s: _target(w, s).username,
    ),
    Row("web:user", "GET", lambda w, s: f"/users/{_target(w, s).pk}/", "secretary", PAGE),
    # Creating: the object is the region of the first grant; out of area is a form error.
    Row(
        "web:user_create",
        "POST",
        lambda w, s: "/users/new/",
        "admin",
        {"anon": "login", "none": 403, "in": 302, "out": 200},
        data=lambda w, s: {
            "username": f"new_{s}",
            "password": "Long-enough-pass-2026",
            "role": role_pk("viewer"),
            "region_code": _region(w, s).code,
        },
    ),
    Row(
        "web:grant_create",
        "POST",
        lambda w, s: f"/users/{_target(w, s).pk}/grants/",
        "admin",
        POST_PAGE,
        data=lambda w, s: {"role": role_pk("viewer"), "region_code": w.region_in.code},
    ),
    Row(
        "web:grant_revoke",
        "POST",
        lambda w, s: (
            f"/users/{_target(w, s).pk}/grants/"
            f"{(w.assignment_in if s == 'in' else w.assignment_out).pk}/revoke/"
        ),
        "admin",
        POST_PAGE,
    ),
    Row(
        "web:user_set_active",
        "POST",
        lambda w, s: f"/users/{_target(w, s).pk}/active/",
        "admin",
        POST_PAGE,
        data=lambda w, s: {"active": "0"},
    ),
    Row(
        "web:token_create",
        "POST",
        lambda w, s: f"/users/{_target(w, s).pk}/tokens/",
        "admin",
        {"anon": "login", "none": 403, "in": 200, "out": 404},
        data=lambda w, s: {"name": "ci"},
    ),
    Row(
        "web:token_revoke",
        "POST",
        lambda w, s: (
            f"/users/{_target(w, s).pk}/tokens/"
            f"{(w.token_in if s == 'in' else w.token_out).pk}/revoke/"
        ),
        "admin",
        POST_PAGE,
    ),
    Row(
        "web:audit",
        "GET",
        lambda w, s: "/audit/",
        "dispatcher",
        {"anon": "login", "none": 403, "in": 200, "out": "hidden"},
        marker=lambda w, s: "IN-REC" if s == "in" else "OUT-REC",
    ),
    # The chain spans every area: superusers only (an area-scoped auditor gets 403).
    Row(
        "web:audit_verify",
        "POST",
        lambda w, s: "/audit/verify/",
        "dispatcher",
        {"anon": "login", "none": 403, "in": 403},
    ),
    # --- case pages (issue 3) ----------------------------------------------------------------
    Row(
        "cases:queue",
        "GET",
        lambda w, s: "/cases/",
        "dispatcher",
        {"anon": "login", "none": 403, "in": 200, "out": "hidden"},
        marker=lambda w, s: _case(w, s).tracking_code,
        needs_cases=True,
    ),
    Row(
        "cases:queue_map",
        "GET",
        lambda w, s: "/cases/map.json",
        "dispatcher",
        {"anon": "login", "none": 403, "in": 200, "out": "hidden"},
        marker=lambda w, s: _case(w, s).tracking_code,
        needs_cases=True,
    ),
    Row(
        "cases:my",
        "GET",
        lambda w, s: "/cases/my/",
        "grid_worker",
        {"anon": "login", "none": 403, "in": 200, "out": "hidden"},
        marker=lambda w, s: _case(w, s).tracking_code,
        needs_cases=True,
    ),
    # Filing out of area is refused by the service and shown as a form error (nothing filed).
    Row(
        "cases:new",
        "POST",
        lambda w, s: "/cases/new/",
        "grid_worker",
        {"anon": "login", "none": 403, "in": 302, "out": 422},
        data=lambda w, s: {
            "title": "路灯不亮",
            "lon": _region(w, s).center_lon,
            "lat": _region(w, s).center_lat,
            "crs": "wgs84",
            "client_key": f"matrix-{s}",
        },
        needs_cases=True,
    ),
    Row(
        "cases:work_orders",
        "GET",
        lambda w, s: "/cases/work-orders/",
        "dept",
        {"anon": "login", "none": 403, "in": 200, "out": "hidden"},
        marker=lambda w, s: _case(w, s).tracking_code,
        needs_cases=True,
    ),
    Row(
        "cases:subtask_act",
        "POST",
        lambda w, s: (
            f"/cases/subtasks/{(w.cases.subtask_in if s == 'in' else w.cases.subtask_out).pk}/act/"
        ),
        "dept",
        POST_PAGE,
        data=lambda w, s: {"action": "accept", "expected_version": 1},
        needs_cases=True,
    ),
    Row(
        "cases:detail",
        "GET",
        lambda w, s: f"/cases/{_case(w, s).pk}/",
        "dispatcher",
        PAGE,
        needs_cases=True,
    ),
    Row(
        "cases:act",
        "POST",
        lambda w, s: f"/cases/{_case(w, s).pk}/act/",
        "dispatcher",
        POST_PAGE,
        data=lambda w, s: {"action": "cancel", "expected_version": 1, "reason": "重复上报"},
        needs_cases=True,
    ),
    Row(
        "cases:supervise",
        "POST",
        lambda w, s: f"/cases/{_case(w, s).pk}/supervise/",
        "dispatcher",
        POST_PAGE,
        data=lambda w, s: {"message": "请尽快办理"},
        needs_cases=True,
    ),
    Row("cases:photo", "GET", _case_photo_url, "grid_worker", PAGE, needs_cases=True),
    # A user's own notifications: nothing to scope beyond "mine".
    Row(
        "cases:notifications",
        "GET",
        lambda w, s: "/cases/notifications/",
        "resident",
        {"anon": "login", "none": 200},
    ),
    Row(
        "cases:notifications_read",
        "POST",
        lambda w, s: "/cases/notifications/read/",
        "resident",
        {"anon": "login", "none": 302},
    ),
    # Resident pages: no account needed. Feedback proves the reporter by the phone given at
    # reporting; a wrong phone is a form error and changes nothing.
    Row("public:report", "GET", lambda w, s: "/report/", "resident", {"anon": 200}),
    Row(
        "public:report_grids",
        "GET",
        lambda w, s: (
            f"/report/grids.geojson?bbox={w.region_in.min_lon},{w.region_in.min_lat},"
            f"{w.region_in.max_lon},{w.region_in.max_lat}"
        ),
        "resident",
        {"anon": 200},
    ),
    # Public: sends an SMS code (console channel in tests) to the number typed on /report/.
    Row(
        "public:report_phone_code",
        "POST",
        lambda w, s: "/report/phone-code/",
        "resident",
        {"anon": 200, "none": 200},
        data=lambda w, s: {"reporter_phone": "13911112222"},
        needs_cases=True,  # clears the rate-limit counters
    ),
    Row("public:track_lookup", "GET", lambda w, s: "/track/", "resident", {"anon": 200}),
    Row(
        "public:track",
        "GET",
        lambda w, s: f"/track/{_case(w, s).tracking_code}",
        "resident",
        {"anon": 200},
        needs_cases=True,
    ),
    Row(
        "public:track_feedback",
        "POST",
        lambda w, s: f"/track/{_case(w, s).tracking_code}/feedback/",
        "resident",
        {"anon": 422},
        data=lambda w, s: {"phone": "13000000000", "score": 5},
        needs_cases=True,
    ),
    # --- public pages ------------------------------------------------------------------------
    Row("web:login", "GET", lambda w, s: "/login/", "resident", {"anon": 200}),
    Row("web:logout", "POST", lambda w, s: "/logout/", "resident", {"anon": 302, "none": 302}),
    Row("healthz", "GET", lambda w, s: "/healthz", "resident", {"anon": (200, 503)}),  # type: ignore[dict-item]
    Row(
        "set_language",
        "POST",
        lambda w, s: "/i18n/setlang/",
        "resident",
        {"anon": 302},
        data=lambda w, s: {"language": "en", "next": "/login/"},
    ),
    # --- API ---------------------------------------------------------------------------------
    Row(
        "GET /api/v1/geo/regions",
        "GET",
        lambda w, s: "/api/v1/geo/regions?limit=1000",
        "grid_worker",
        {"anon": 401, "none": "hidden", "in": 200, "out": "hidden"},
        marker=lambda w, s: f'"{_region(w, s).code}"',
    ),
    Row(
        "GET /api/v1/geo/regions/{code}",
        "GET",
        lambda w, s: f"/api/v1/geo/regions/{_region(w, s).code}",
        "grid_worker",
        API_ONE,
    ),
    Row(
        "GET /api/v1/geo/regions/{code}/geojson",
        "GET",
        lambda w, s: f"/api/v1/geo/regions/{_region(w, s).code}/geojson",
        "grid_worker",
        API_ONE,
    ),
    # Which grid a point lies in is public geography (street signs): any signed-in caller gets
    # the same answer, code/name/level only — no households, staff or boundaries.
    Row(
        "GET /api/v1/geo/locate",
        "GET",
        lambda w, s: (
            f"/api/v1/geo/locate?lon={_region(w, s).center_lon}&lat={_region(w, s).center_lat}"
        ),
        "grid_worker",
        {"anon": 401, "none": 200, "in": 200, "out": 200},
    ),
    Row(
        "GET /api/v1/accounts/me",
        "GET",
        lambda w, s: "/api/v1/accounts/me",
        "resident",
        {"anon": 401, "none": 200},
    ),
    # --- cases API (public intake and tracking; the rest scoped like everything else) ---------
    Row(
        "POST /api/v1/cases/",
        "POST",
        lambda w, s: "/api/v1/cases/",
        "resident",
        {"anon": 201},
        data=lambda w, s: {
            "title": "路边暴露垃圾",
            "description": "垃圾很多",
            "lon": w.region_in.center_lon,
            "lat": w.region_in.center_lat,
            "crs": "wgs84",
        },
        json=True,
        needs_cases=True,
    ),
    Row(
        "POST /api/v1/cases/phone-codes",
        "POST",
        lambda w, s: "/api/v1/cases/phone-codes",
        "resident",
        {"anon": 201, "none": 201},
        data=lambda w, s: {"phone": "13911114444"},
        json=True,
        needs_cases=True,  # clears the rate-limit counters
    ),
    Row(
        "GET /api/v1/cases/track/{code}",
        "GET",
        lambda w, s: f"/api/v1/cases/track/{_case(w, s).tracking_code}",
        "resident",
        {"anon": 200},
        needs_cases=True,
    ),
    # Public, but the tracking code and the reporter's phone together are the credential:
    # a wrong phone answers 404 exactly like an unknown code.
    Row(
        "POST /api/v1/cases/track/{code}/feedback",
        "POST",
        lambda w, s: f"/api/v1/cases/track/{_case(w, s).tracking_code}/feedback",
        "resident",
        {"anon": 404},
        data=lambda w, s: {"phone": "13000000000", "score": 5},
        json=True,
        needs_cases=True,
    ),
    Row(
        "POST /api/v1/cases/track/{code}/photos",
        "POST",
        lambda w, s: f"/api/v1/cases/track/{_case(w, s).tracking_code}/photos",
        "resident",
        {"anon": 404},
        data=lambda w, s: {**_photo(w, s), "phone": "13000000000"},
        needs_cases=True,
    ),
    Row(
        "GET /api/v1/cases/matter-types",
        "GET",
        lambda w, s: "/api/v1/cases/matter-types",
        "resident",
        {"anon": 200},
        needs_cases=True,
    ),
    Row(
        "GET /api/v1/cases/",
        "GET",
        lambda w, s: "/api/v1/cases/?page_size=100",
        "dispatcher",
        {"anon": 401, "none": "hidden", "in": 200, "out": "hidden"},
        marker=lambda w, s: _case(w, s).tracking_code,
        needs_cases=True,
    ),
    Row(
        "GET /api/v1/cases/{case_id}",
        "GET",
        lambda w, s: f"/api/v1/cases/{_case(w, s).pk}",
        "dispatcher",
        API_ONE,
        needs_cases=True,
    ),
    Row(
        "POST /api/v1/cases/{case_id}/transitions",
        "POST",
        lambda w, s: f"/api/v1/cases/{_case(w, s).pk}/transitions",
        "dispatcher",
        API_ONE,
        data=lambda w, s: {
            "action": "cancel",
            "expected_version": 1,
            "data": {"reason": "重复上报"},
        },
        json=True,
        needs_cases=True,
    ),
    Row(
        "POST /api/v1/cases/{case_id}/attachments",
        "POST",
        lambda w, s: f"/api/v1/cases/{_case(w, s).pk}/attachments",
        "grid_worker",
        {"anon": 401, "none": 404, "in": 201, "out": 404},
        data=_photo,
        needs_cases=True,
    ),
    Row(
        "POST /api/v1/cases/subtasks/{subtask_id}/transitions",
        "POST",
        lambda w, s: (
            "/api/v1/cases/subtasks/"
            f"{(w.cases.subtask_in if s == 'in' else w.cases.subtask_out).pk}/transitions"
        ),
        "dept",
        API_ONE,
        data=lambda w, s: {"action": "accept", "expected_version": 1},
        json=True,
        needs_cases=True,
    ),
    # A user's own notifications: nothing to scope beyond "mine".
    Row(
        "GET /api/v1/cases/notifications",
        "GET",
        lambda w, s: "/api/v1/cases/notifications",
        "resident",
        {"anon": 401, "none": 200},
    ),
    Row(
        "GET /api/v1/cases/notifications/unread-count",
        "GET",
        lambda w, s: "/api/v1/cases/notifications/unread-count",
        "resident",
        {"anon": 401, "none": 200},
    ),
    Row(
        "POST /api/v1/cases/notifications/read",
        "POST",
        lambda w, s: "/api/v1/cases/notifications/read",
        "resident",
        {"anon": 401, "none": 200},
        data=lambda w, s: {},
        json=True,
    ),
]

# Endpoints outside the matrix on purpose, with the reason.
EXEMPT = {
    "GET /api/v1/openapi.json": "public API description",
    "GET /api/v1/docs": "public API documentation page",
}


def _cases() -> list[Any]:
    return [
        pytest.param(row, scenario, id=f"{row.name}[{scenario}]")
        for row in ROWS
        for scenario in SCENARIOS
        if scenario in row.expect
    ]


def _client_for(world: World, row: Row, scenario: str) -> Client:
    client = Client()
    if scenario == "none":
        client.force_login(world.users["resident"])
    elif scenario in ("in", "out"):
        client.force_login(world.users[row.role])
    return client


@pytest.mark.parametrize(("row", "scenario"), _cases())
def test_permission_matrix(world: World, row: Row, scenario: str) -> None:
    side = "out" if scenario == "out" else "in"
    if row.needs_cases:
        world.cases = _make_cases(world)
    client = _client_for(world, row, scenario)
    url = row.url(world, side)
    if row.method == "GET":
        response = client.get(url)
    elif row.json:
        response = client.post(
            url, json.dumps(row.data(world, side)), content_type="application/json"
        )
    else:
        response = client.post(url, row.data(world, side))
    expected = row.expect[scenario]
    if expected == "login":
        assert response.status_code == 302, response.content[:300]
        assert response["Location"].startswith(LOGIN + "?next=")
    elif expected == "hidden":
        assert response.status_code == 200, response.content[:300]
        if row.marker is not None:
            assert row.marker(world, "out").encode() not in response.content
        if scenario == "none" and row.name.startswith("GET /api/"):
            assert json.loads(response.content)["count"] == 0  # not even a count leaks
    elif isinstance(expected, tuple):
        assert response.status_code in expected
    else:
        assert response.status_code == expected, response.content[:300]
        if expected == 200 and scenario == "in" and row.marker is not None:
            assert row.marker(world, "in").encode() in response.content


def test_out_of_area_create_does_not_create_the_user(world: World) -> None:
    client = Client()
    client.force_login(world.users["admin"])
    row = next(r for r in ROWS if r.name == "web:user_create")
    response = client.post(row.url(world, "out"), row.data(world, "out"))
    assert response.status_code == 200
    assert "不在您的管辖范围内" in response.content.decode()
    assert not type(world.target_in).objects.filter(username="new_out").exists()


def _web_url_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns: list[Any], namespace: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                if p.namespace == "api":
                    continue  # covered through the OpenAPI schema below
                ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
                walk(p.url_patterns, ns)
            elif isinstance(p, URLPattern) and p.name:
                names.add(f"{namespace}{p.name}")

    walk(get_resolver().url_patterns, "")
    return names


def _api_operations() -> set[str]:
    from wangge.api.api import api

    schema = api.get_openapi_schema()
    ops = set()
    for path, methods in schema["paths"].items():
        for method in methods:
            ops.add(f"{method.upper()} {path}")
    return ops


def _covered_by_apps() -> set[str]:
    """``COVERED`` of every ``wangge.<app>.tests.test_matrix`` module."""
    import importlib
    import importlib.util

    from django.conf import settings

    names: set[str] = set()
    for app in settings.INSTALLED_APPS:
        if not app.startswith("wangge."):
            continue
        module = f"{app}.tests.test_matrix"
        try:
            found = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:
            found = False
        if found:
            names |= set(importlib.import_module(module).COVERED)
    return names


def test_matrix_covers_every_endpoint() -> None:
    covered = {r.name for r in ROWS} | set(EXEMPT) | _covered_by_apps()
    missing = (_web_url_names() | _api_operations()) - covered
    assert not missing, f"add rows to tests/test_permission_matrix.py for: {sorted(missing)}"
