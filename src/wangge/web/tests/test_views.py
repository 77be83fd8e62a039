"""Pages: what each role sees and what each form does. Access rules per endpoint are in
``tests/test_permission_matrix.py``; here are the behaviours behind them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from wangge.accounts.models import ApiToken, Role, RoleAssignment, User
from wangge.accounts.tests.factories import make_user
from wangge.core.audit import audit_log
from wangge.core.models import AuditRecord

from .helpers import client_for, role_pk


@pytest.fixture(autouse=True)
def _fast_hasher(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# --- Home and shell ---------------------------------------------------------------------------


def test_home_lists_the_users_grants_and_what_they_can_do(tree) -> None:
    user = make_user("zhang", role="street_dispatcher", region=tree.streets[0])
    html = client_for(user).get("/").content.decode()
    assert "街道指挥中心调度员" in html and tree.streets[0].name in html
    assert 'href="/regions/"' in html and 'href="/audit/"' in html and 'href="/users/"' in html


def test_navigation_hides_pages_the_role_cannot_open(tree) -> None:
    user = make_user("li", role="grid_worker", region=tree.grids[0])
    html = client_for(user).get("/").content.decode()
    assert 'href="/regions/"' in html
    assert 'href="/users/"' not in html and 'href="/audit/"' not in html


SHELL_PAGES = {"/regions/", "/search/", "/users/", "/audit/"}


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("resident", set()),
        ("party_member", set()),
        ("grid_worker", {"/regions/", "/search/"}),
        ("micro_grid_worker", {"/regions/", "/search/"}),
        ("department_staff", {"/regions/", "/search/"}),
        ("community_secretary", {"/regions/", "/search/", "/users/"}),
        ("street_dispatcher", SHELL_PAGES),
        ("district_commander", SHELL_PAGES),
        ("sysadmin", {"/regions/", "/search/", "/users/"}),
        ("auditor", SHELL_PAGES),
    ],
)
def test_each_role_sees_the_shell_pages_of_docs_ui(tree, role, expected) -> None:
    from wangge.web.navigation import navigation_for

    user = make_user(f"u_{role}", role=role, region=tree.streets[0])
    urls = {item["url"] for item in navigation_for(user, "/")}
    assert urls & SHELL_PAGES == expected


def test_a_user_without_grants_is_told_so(db) -> None:
    html = client_for(make_user("nobody")).get("/").content.decode()
    assert "您还没有任何角色授权" in html


def test_login_page_switches_to_english(db) -> None:
    client = Client()
    assert "用户名或手机号" in client.get("/login/").content.decode()
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    assert response.status_code == 302
    html = client.get("/login/").content.decode()
    assert "Username or mobile number" in html and 'lang="en"' in html
    assert "用户名或手机号" not in html


def test_login_and_logout(tree, password) -> None:
    make_user("wang", role="grid_worker", region=tree.grids[0])
    client = Client()
    response = client.post("/login/", {"username": "wang", "password": password})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200
    assert client.post("/logout/").status_code == 302
    assert client.get("/").status_code == 302


def test_wrong_password_shows_an_error(tree) -> None:
    make_user("wang", role="grid_worker", region=tree.grids[0])
    html = Client().post("/login/", {"username": "wang", "password": "nope"}).content.decode()
    assert "用户名/手机号或密码不正确" in html


def test_repeated_failures_show_the_lockout_page(tree) -> None:
    make_user("wang", role="grid_worker", region=tree.grids[0])
    client = Client()
    for _ in range(5):
        client.post("/login/", {"username": "wang", "password": "wrong"})
    response = client.post("/login/", {"username": "wang", "password": "wrong"})
    assert response.status_code in (403, 429)
    assert "登录已暂时锁定" in response.content.decode()


def test_every_post_needs_a_csrf_token(tree) -> None:
    admin = make_user("admin1", role="sysadmin", region=tree.streets[0])
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    target = make_user("t", role="grid_worker", region=tree.grids[0])
    assert client.post(f"/users/{target.pk}/active/", {"active": "0"}).status_code == 403
    target.refresh_from_db()
    assert target.is_active


# --- Regions ----------------------------------------------------------------------------------


def test_region_index_lists_the_users_roots(tree) -> None:
    user = make_user("w", role="grid_worker", region=tree.streets[0])
    html = client_for(user).get("/regions/").content.decode()
    assert tree.streets[0].name in html and tree.streets[1].name not in html
    assert tree.county.name not in html


def test_region_page_shows_facts_children_and_visible_breadcrumb(tree) -> None:
    community = tree.communities[0]
    user = make_user("w", role="community_secretary", region=tree.streets[0])
    html = client_for(user).get(f"/regions/{community.code}/").content.decode()
    assert community.code in html and "社区/村" in html
    for grid in tree.grids[:2]:
        assert grid.name in html
    # Breadcrumb: the street (granted) but not the county above the grant.
    crumb = html.split('data-testid="breadcrumb"')[1].split("</nav>")[0]
    assert tree.streets[0].name in crumb and tree.county.name not in crumb


def test_grid_page_shows_grid_facts_and_staff(tree) -> None:
    grid = tree.grids[0]
    make_user("gw", role="grid_worker", region=grid, display_name="网格员甲", mobile="13800000001")
    leader = make_user("leader", role="community_secretary", region=tree.streets[0])
    html = client_for(leader).get(f"/regions/{grid.code}/").content.decode()
    assert "网格信息" in html and "综合网格" in html and "400" in html
    assert "网格员甲" in html and "tel:13800000001" in html


def test_staff_are_hidden_from_roles_that_may_not_view_users(tree) -> None:
    grid = tree.grids[0]
    make_user("gw", role="grid_worker", region=grid, display_name="网格员甲")
    worker = make_user("w2", role="grid_worker", region=tree.streets[0])
    html = client_for(worker).get(f"/regions/{grid.code}/").content.decode()
    assert "网格员甲" not in html and 'data-testid="staff"' not in html


def test_staff_section_follows_where_the_viewer_may_view_users(tree) -> None:
    """A secretary of one community who can also view the other street's map (as a grid
    worker there) sees no staff section for that street's regions."""
    viewer = make_user("v", role="community_secretary", region=tree.communities[0])
    RoleAssignment.objects.create(
        user=viewer, role=Role.objects.get(code="grid_worker"), region=tree.grids[-1]
    )
    client = client_for(viewer)
    assert 'data-testid="staff"' in client.get(f"/regions/{tree.grids[0].code}/").content.decode()
    html = client.get(f"/regions/{tree.grids[-1].code}/").content.decode()
    assert 'data-testid="staff"' not in html


def test_children_partial_for_lazy_expansion(tree) -> None:
    user = make_user("w", role="grid_worker", region=tree.streets[0])
    html = client_for(user).get(f"/regions/{tree.communities[0].code}/children/").content.decode()
    assert "<html" not in html
    assert tree.grids[0].name in html and tree.grids[1].name in html


def test_geojson_has_the_region_and_its_children_with_links(tree) -> None:
    community = tree.communities[0]
    user = make_user("w", role="grid_worker", region=tree.streets[0])
    response = client_for(user).get(f"/regions/{community.code}/children.geojson")
    assert response["Content-Type"] == "application/geo+json"
    data = json.loads(response.content)
    assert data["type"] == "FeatureCollection"
    codes = [f["id"] for f in data["features"]]
    assert codes[0] == community.code and data["features"][0]["properties"]["is_self"]
    assert set(codes[1:]) == {g.code for g in tree.grids if g.parent_id == community.pk}
    child = data["features"][1]
    assert child["properties"]["url"] == f"/regions/{child['id']}/"
    assert child["geometry"]["type"] == "Polygon"


def test_geojson_shifts_to_gcj02_on_request(tree) -> None:
    user = make_user("w", role="grid_worker", region=tree.streets[0])
    url = f"/regions/{tree.grids[0].code}/children.geojson"
    client = client_for(user)
    wgs = json.loads(client.get(url).content)["features"][0]["geometry"]["coordinates"][0][0]
    gcj = json.loads(client.get(url + "?crs=gcj02").content)
    shifted = gcj["features"][0]["geometry"]["coordinates"][0][0]
    # In Suzhou GCJ-02 lies roughly 0.004° east and 0.002° south of WGS-84.
    assert 0.003 < shifted[0] - wgs[0] < 0.006 and -0.004 < shifted[1] - wgs[1] < -0.001
    assert client.get(url + "?crs=mercator").status_code == 400


def test_region_page_asks_for_gcj02_when_the_tiles_are(tree, settings) -> None:
    settings.MAP_TILE_CRS = "gcj02"
    settings.MAP_TILE_URL = "https://tiles.example/{z}/{x}/{y}.png"
    user = make_user("w", role="grid_worker", region=tree.streets[0])
    html = client_for(user).get(f"/regions/{tree.grids[0].code}/").content.decode()
    assert "children.geojson?crs=gcj02" in html
    assert 'data-tile-url="https://tiles.example/{z}/{x}/{y}.png"' in html


def test_region_page_has_no_tile_layer_by_default(tree) -> None:
    user = make_user("w", role="grid_worker", region=tree.streets[0])
    html = client_for(user).get(f"/regions/{tree.grids[0].code}/").content.decode()
    assert 'data-tile-url=""' in html and 'children.geojson"' in html


# --- Search -----------------------------------------------------------------------------------


def test_search_by_code_and_by_name_within_the_area(tree) -> None:
    user = make_user("w", role="grid_worker", region=tree.streets[0])
    client = client_for(user)
    html = client.get("/search/", {"q": tree.grids[0].code}).content.decode()
    assert tree.grids[0].name in html
    html = client.get("/search/", {"q": "第2街道"}).content.decode()
    assert "没有找到" in html  # street 2 exists but is out of area
    html = client.get("/search/", {"q": "网格1"}).content.decode()
    assert tree.grids[0].code in html and tree.grids[-2].code not in html


def test_search_answers_htmx_with_a_partial(tree) -> None:
    user = make_user("w", role="grid_worker", region=tree.streets[0])
    response = client_for(user).get("/search/", {"q": "社区"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<html" not in html and tree.communities[0].name in html


# --- Users and grants -------------------------------------------------------------------------


@pytest.fixture
def admin(tree) -> User:
    return make_user("admin1", role="sysadmin", region=tree.streets[0])


def test_user_list_shows_users_in_the_area_only(tree, admin) -> None:
    make_user("inside", role="grid_worker", region=tree.grids[0])
    make_user("outside", role="grid_worker", region=tree.grids[-1])
    html = client_for(admin).get("/users/").content.decode()
    assert "inside" in html and "outside" not in html


def test_user_list_shows_only_the_grants_inside_the_area(tree, admin) -> None:
    both = make_user("both", role="grid_worker", region=tree.grids[0])
    RoleAssignment.objects.create(
        user=both, role=Role.objects.get(code="grid_worker"), region=tree.grids[-1]
    )
    html = client_for(admin).get("/users/").content.decode()
    assert f"网格员 @ {tree.grids[0].name}" in html
    assert tree.grids[-1].name not in html


def test_admin_creates_a_user_with_a_first_grant(tree, admin) -> None:
    response = client_for(admin).post(
        "/users/new/",
        {
            "username": "newbie",
            "display_name": "新人",
            "mobile": "13900000009",
            "password": "Long-enough-pass-2026",
            "role": role_pk("viewer"),
            "region_code": tree.grids[0].code,
        },
    )
    user = User.objects.get(username="newbie")
    assert response.status_code == 302 and response["Location"] == f"/users/{user.pk}/"
    assert RoleAssignment.objects.filter(user=user, region=tree.grids[0]).exists()
    assert user.check_password("Long-enough-pass-2026")


def test_create_user_shows_service_validation_errors(tree, admin) -> None:
    response = client_for(admin).post(
        "/users/new/",
        {
            "username": "admin1",
            "password": "Long-enough-pass-2026",
            "role": role_pk("grid_worker"),
            "region_code": tree.grids[0].code,
        },
    )
    assert response.status_code == 200
    assert "用户名已被使用" in response.content.decode()


def test_create_user_refuses_privilege_escalation_and_creates_nothing(tree, admin) -> None:
    response = client_for(admin).post(
        "/users/new/",
        {
            "username": "boss",
            "password": "Long-enough-pass-2026",
            "role": role_pk("district_commander"),  # has core.view_auditrecord; admin has not
            "region_code": tree.streets[0].code,
        },
    )
    assert "不能授予超出您自身权限的角色" in response.content.decode()
    assert not User.objects.filter(username="boss").exists()


def test_grant_a_role_and_revoke_it(tree, admin) -> None:
    target = make_user("t", role="grid_worker", region=tree.grids[0])
    client = client_for(admin)
    response = client.post(
        f"/users/{target.pk}/grants/",
        {"role": role_pk("viewer"), "region_code": tree.communities[0].code},
    )
    assert response.status_code == 302
    grant = RoleAssignment.objects.get(user=target, role__code="viewer")
    html = client.get(f"/users/{target.pk}/").content.decode()
    assert "已授予" in html and "只读查看" in html
    response = client.post(f"/users/{target.pk}/grants/{grant.pk}/revoke/")
    assert response.status_code == 302
    assert not RoleAssignment.objects.filter(pk=grant.pk).exists()
    assert AuditRecord.objects.filter(action="accounts.role_revoke").exists()


def test_grant_refuses_escalation_and_out_of_area_regions_with_a_message(tree, admin) -> None:
    target = make_user("t", role="grid_worker", region=tree.grids[0])
    client = client_for(admin)
    response = client.post(
        f"/users/{target.pk}/grants/",
        {"role": role_pk("auditor"), "region_code": tree.streets[0].code},
    )
    assert response.status_code == 422
    assert "不能授予超出您自身权限的角色" in response.content.decode()
    response = client.post(
        f"/users/{target.pk}/grants/",
        {"role": role_pk("viewer"), "region_code": tree.grids[-1].code},
    )
    assert response.status_code == 422
    assert "不在您的管辖范围内" in response.content.decode()
    assert RoleAssignment.objects.filter(user=target).count() == 1


def test_revoking_needs_the_grant_to_belong_to_that_user(tree, admin) -> None:
    a = make_user("a", role="grid_worker", region=tree.grids[0])
    b = make_user("b", role="grid_worker", region=tree.grids[1])
    grant_b = RoleAssignment.objects.get(user=b)
    response = client_for(admin).post(f"/users/{a.pk}/grants/{grant_b.pk}/revoke/")
    assert response.status_code == 404
    assert RoleAssignment.objects.filter(pk=grant_b.pk).exists()


def test_deactivate_and_activate(tree, admin) -> None:
    target = make_user("t", role="grid_worker", region=tree.grids[0])
    client = client_for(admin)
    client.post(f"/users/{target.pk}/active/", {"active": "0"})
    target.refresh_from_db()
    assert not target.is_active
    record = AuditRecord.objects.get(action="accounts.user_set_active")
    assert record.region_path == tree.grids[0].path  # visible to the area's auditors
    client.post(f"/users/{target.pk}/active/", {"active": "1"})
    target.refresh_from_db()
    assert target.is_active


def test_admins_cannot_deactivate_themselves(tree, admin) -> None:
    response = client_for(admin).post(f"/users/{admin.pk}/active/", {"active": "0"}, follow=True)
    admin.refresh_from_db()
    assert admin.is_active and "不能停用自己的账号" in response.content.decode()


def test_user_wide_changes_need_all_of_the_users_grants_in_area(tree, admin) -> None:
    """A street-1 admin must not deactivate or mint tokens for someone who also works in
    street 2: the change would reach beyond street 1."""
    both = make_user("both", role="grid_worker", region=tree.grids[0])
    RoleAssignment.objects.create(
        user=both, role=Role.objects.get(code="grid_worker"), region=tree.grids[-1]
    )
    client = client_for(admin)
    response = client.post(f"/users/{both.pk}/active/", {"active": "0"}, follow=True)
    both.refresh_from_db()
    assert both.is_active and "只能由上级管理员" in response.content.decode()
    client.post(f"/users/{both.pk}/tokens/", {"name": "x"})
    assert not ApiToken.objects.filter(user=both).exists()


def test_token_secret_is_shown_once_and_token_can_be_revoked(tree, admin) -> None:
    target = make_user("t", role="grid_worker", region=tree.grids[0])
    client = client_for(admin)
    response = client.post(f"/users/{target.pk}/tokens/", {"name": "patrol app"})
    html = response.content.decode()
    token = ApiToken.objects.get(user=target)
    secret = html.split('data-testid="new-token"')[1].split("<code>")[1].split("</code>")[0]
    assert secret.startswith("wg_") and secret.startswith(token.prefix)
    assert response["Cache-Control"] == "no-store"
    api = Client().get("/api/v1/accounts/me", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.status_code == 200
    assert secret not in client.get(f"/users/{target.pk}/").content.decode()
    client.post(f"/users/{target.pk}/tokens/{token.pk}/revoke/")
    assert (
        Client().get("/api/v1/accounts/me", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code
        == 401
    )


def test_viewers_see_users_but_no_management_controls(tree) -> None:
    secretary = make_user("s", role="community_secretary", region=tree.streets[0])
    target = make_user("t", role="grid_worker", region=tree.grids[0])
    html = client_for(secretary).get(f"/users/{target.pk}/").content.decode()
    assert "grid_worker" not in html  # role shown by name, not code
    assert "网格员" in html
    assert "授予角色" not in html and "接口令牌" not in html and "停用账号" not in html


# --- Audit ------------------------------------------------------------------------------------


@pytest.fixture
def auditor(tree) -> User:
    return make_user("aud", role="auditor", region=tree.streets[0])


def test_audit_page_is_scoped_and_filters(tree, auditor) -> None:
    audit_log(
        actor="alice",
        action="geo.region_update",
        region_path=tree.grids[0].path,
        object_repr="REC-A",
    )
    audit_log(
        actor="bob",
        action="accounts.role_assign",
        region_path=tree.grids[1].path,
        object_repr="REC-B",
    )
    audit_log(
        actor="carol",
        action="geo.region_update",
        region_path=tree.grids[-1].path,
        object_repr="REC-C",
    )
    audit_log(actor="system", action="core.global", object_repr="REC-GLOBAL")
    client = client_for(auditor)
    html = client.get("/audit/").content.decode()
    assert "REC-A" in html and "REC-B" in html
    assert "REC-C" not in html and "REC-GLOBAL" not in html
    html = client.get("/audit/", {"action": "geo."}).content.decode()
    assert "REC-A" in html and "REC-B" not in html
    html = client.get("/audit/", {"actor": "bob"}).content.decode()
    assert "REC-B" in html and "REC-A" not in html
    html = client.get("/audit/", {"date_from": "2000-01-01", "date_to": "2000-01-02"})
    assert "REC-A" not in html.content.decode()


def test_audit_page_paginates(tree, auditor) -> None:
    for i in range(55):
        audit_log(actor="x", action="t.many", region_path=tree.grids[0].path, object_repr=f"N{i}")
    client = client_for(auditor)
    first = client.get("/audit/", {"action": "t."}).content.decode()
    assert "N54" in first and "N0<" not in first and "第 1 / 2 页" in first
    assert "action=t.&amp;page=2" in first
    second = client.get("/audit/", {"action": "t.", "page": 2}).content.decode()
    assert "N0<" in second


def test_superuser_verifies_the_chain(db, admin_user) -> None:
    audit_log(actor="x", action="t.one", region_path="/1/")
    client = client_for(admin_user)
    assert "校验哈希链" in client.get("/audit/").content.decode()
    html = client.post("/audit/verify/", follow=True).content.decode()
    assert "哈希链完整" in html
    AuditRecord.objects.filter(action="t.one").update(object_repr="tampered")
    html = client.post("/audit/verify/", follow=True).content.decode()
    assert "哈希链已损坏" in html and "altered" in html


def test_scoped_auditors_get_no_verify_button(tree, auditor) -> None:
    assert "校验哈希链" not in client_for(auditor).get("/audit/").content.decode()


def _po_entries(text: str) -> list[dict[str, str]]:
    """Minimal .po reader: msgid and concatenated msgstr values per entry."""
    entries = []
    for block in text.split("\n\n"):
        lines = [ln for ln in block.splitlines() if ln and not ln.startswith("#")]
        fuzzy = any(ln.startswith("#,") and "fuzzy" in ln for ln in block.splitlines())
        current, fields = "", {}
        for ln in lines:
            if ln.startswith('"'):
                fields[current] += ln[1:-1]
            else:
                current, _, rest = ln.partition(" ")
                fields[current] = rest[1:-1]
        if fields.get("msgid"):
            strs = [v for k, v in fields.items() if k.startswith("msgstr")]
            entries.append({"msgid": fields["msgid"], "ok": str(all(strs) and not fuzzy)})
    return entries


def test_english_translation_is_complete() -> None:
    """Every msgid in the English catalogue is translated (after makemessages, fill msgstr)."""
    from pathlib import Path

    from django.conf import settings

    po = Path(settings.LOCALE_PATHS[0]) / "en" / "LC_MESSAGES" / "django.po"
    entries = _po_entries(po.read_text(encoding="utf-8"))
    assert len(entries) > 400
    untranslated = [e["msgid"] for e in entries if e["ok"] != "True"]
    assert not untranslated, untranslated[:5]
