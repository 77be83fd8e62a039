from __future__ import annotations

import pytest
from django.contrib.auth import authenticate
from django.test import Client

from wangge.accounts.models import ApiToken
from wangge.accounts.services import api_token_authenticate, api_token_create, api_token_revoke
from wangge.accounts.tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db


def test_passwords_are_hashed_with_argon2():
    user = make_user("zhang")
    assert user.password.startswith("argon2")


def test_login_with_username_or_mobile(rf):
    make_user("li", mobile="13812345678")
    request = rf.post("/login/")
    assert authenticate(request, username="li", password=PASSWORD) is not None
    assert authenticate(request, username="13812345678", password=PASSWORD) is not None
    assert authenticate(request, username="13812345678", password="wrong") is None


def test_login_page_signs_in(client: Client):
    make_user("wang")
    response = client.post("/login/", {"username": "wang", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_repeated_failures_lock_the_account_even_with_the_right_password(client: Client):
    make_user("zhao")
    for _ in range(5):
        client.post("/login/", {"username": "zhao", "password": "bad-password"})
    response = client.post("/login/", {"username": "zhao", "password": PASSWORD})
    assert response.status_code == 429
    assert "锁定" in response.content.decode()


def test_api_token_is_hashed_at_rest_and_revocable():
    user = make_user("machine")
    token, raw = api_token_create(actor=None, user=user, name="hotline")
    assert raw.startswith("wg_")
    assert raw not in {token.key_hash, token.prefix}
    assert not ApiToken.objects.filter(key_hash=raw).exists()
    assert api_token_authenticate(raw) == user
    api_token_revoke(actor=None, token=token)
    assert api_token_authenticate(raw) is None


def test_api_accepts_bearer_tokens_and_rejects_bad_ones(client: Client):
    user = make_user("bot")
    _token, raw = api_token_create(actor=None, user=user, name="bot")
    ok = client.get("/api/v1/accounts/me", headers={"Authorization": f"Bearer {raw}"})
    assert ok.status_code == 200
    assert ok.json()["username"] == "bot"
    bad = client.get("/api/v1/accounts/me", headers={"Authorization": "Bearer wg_nope"})
    assert bad.status_code == 401
    assert bad.json()["error"]["code"] == "unauthorized"


def test_inactive_users_token_stops_working():
    user = make_user("gone")
    _token, raw = api_token_create(actor=None, user=user, name="x")
    user.is_active = False
    user.save()
    assert api_token_authenticate(raw) is None


def test_account_and_token_records_are_filed_under_the_users_area(tree):
    """An area auditor sees who made accounts and tokens there (not only superusers)."""
    from wangge.accounts.models import Role
    from wangge.accounts.services import user_create_with_role
    from wangge.core.models import AuditRecord

    grid = tree.grids[0]
    admin = make_user("area_admin", role="sysadmin", region=tree.streets[0])
    user = user_create_with_role(
        actor=admin,
        username="new_worker",
        password=None,
        role=Role.objects.get(code="grid_worker"),
        region=grid,
    )
    token, _ = api_token_create(actor=admin, user=user, name="phone")
    api_token_revoke(actor=admin, token=token)
    paths = dict(
        AuditRecord.objects.filter(object_id=str(user.pk)).values_list("action", "region_path")
    )
    assert paths["accounts.user_create"] == grid.path
    assert paths["accounts.token_create"] == grid.path
    assert paths["accounts.token_revoke"] == grid.path
