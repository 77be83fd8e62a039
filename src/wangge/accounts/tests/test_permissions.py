from __future__ import annotations

import pytest

from wangge.accounts.models import Role
from wangge.accounts.permissions import scope_paths
from wangge.accounts.services import role_assign, role_revoke
from wangge.accounts.tests.factories import make_user
from wangge.core.exceptions import NotFound, PermissionDenied
from wangge.geo.models import Region
from wangge.geo.selectors import access_region, region_list_for_user

pytestmark = pytest.mark.django_db


def test_a_grant_on_a_street_covers_its_subtree_only(tree):
    street1, street2 = tree.streets
    user = make_user(role="grid_worker", region=street1)
    visible = set(Region.objects.restrict(user, "view").values_list("code", flat=True))
    assert street1.code in visible
    assert all(c.startswith(street1.code) for c in visible)
    assert not any(c.startswith(street2.code) for c in visible)


def test_out_of_area_region_is_not_found_like_a_missing_one(tree):
    user = make_user(role="grid_worker", region=tree.streets[0])
    with pytest.raises(NotFound):
        access_region(user, tree.streets[1].code)
    with pytest.raises(NotFound):
        access_region(user, "999999999")
    assert access_region(user, tree.grids[0].code) == tree.grids[0]


def test_a_role_without_the_permission_sees_nothing(tree):
    resident = make_user(role="resident", region=tree.communities[0])
    assert not region_list_for_user(resident).exists()


def test_superuser_is_unrestricted(tree, admin_user):
    assert scope_paths(admin_user, "geo.view_region") is None
    assert region_list_for_user(admin_user).count() == Region.objects.count()


def test_inactive_user_sees_nothing(tree):
    user = make_user(role="grid_worker", region=tree.county, is_active=False)
    assert not Region.objects.restrict(user, "view").exists()


def test_nested_grants_collapse_to_the_widest(tree):
    user = make_user(role="grid_worker", region=tree.county)
    role_assign(
        actor=None,
        user=user,
        role=Role.objects.get(code="grid_worker"),
        region=tree.streets[0],
        audit=False,
    )
    assert scope_paths(user, "geo.view_region") == [tree.county.path]


def test_admin_cannot_grant_outside_their_area(tree):
    admin = make_user(role="sysadmin", region=tree.streets[0])
    target = make_user()
    with pytest.raises(PermissionDenied):
        role_assign(
            actor=admin,
            user=target,
            role=Role.objects.get(code="grid_worker"),
            region=tree.streets[1],
        )
    role_assign(
        actor=admin,
        user=target,
        role=Role.objects.get(code="grid_worker"),
        region=tree.communities[0],
    )
    assert scope_paths(target, "geo.view_region") == [tree.communities[0].path]


def test_admin_cannot_grant_a_role_stronger_than_their_own(tree):
    # a community secretary may not hand out sysadmin (it lacks accounts.manage_users itself)
    admin = make_user(role="sysadmin", region=tree.streets[0])
    target = make_user()
    with pytest.raises(PermissionDenied):
        role_assign(
            actor=admin, user=target, role=Role.objects.get(code="auditor"), region=tree.streets[0]
        )


def test_revoke_removes_scope_and_is_audited(tree):
    from wangge.core.models import AuditRecord

    admin = make_user(role="sysadmin", region=tree.county)
    target = make_user()
    a = role_assign(
        actor=admin, user=target, role=Role.objects.get(code="grid_worker"), region=tree.grids[0]
    )
    role_revoke(actor=admin, assignment=a)
    assert scope_paths(target, "geo.view_region") == []
    actions = list(AuditRecord.objects.order_by("seq").values_list("action", flat=True))
    assert actions[-2:] == ["accounts.role_assign", "accounts.role_revoke"]
