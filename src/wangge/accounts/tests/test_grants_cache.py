"""The per-process grants cache (ADR 0025): a request whose user row carries a grants stamp the
process has seen answers scope questions without a query, and every kind of change to the
user's grants is seen at once."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from wangge.accounts.models import Role, RoleAssignment, User
from wangge.accounts.permissions import (
    forget_cached_grants,
    grants_changed,
    has_perm_at,
    scope_paths,
)
from wangge.accounts.services import role_assign, role_revoke
from wangge.accounts.tests.factories import make_user

pytestmark = pytest.mark.django_db
VIEW = "geo.view_region"


def fresh(user: User) -> User:
    """The user as the next request would load it (session or token authentication)."""
    return User.objects.get(pk=user.pk)


def test_a_known_user_is_scoped_without_a_query(tree, django_assert_num_queries):
    user = make_user(role="grid_worker", region=tree.streets[0])
    forget_cached_grants()
    first = fresh(user)
    with django_assert_num_queries(1):  # the first request of this process loads all grants
        assert scope_paths(first, VIEW) == [tree.streets[0].path]
    again = fresh(user)
    with django_assert_num_queries(0):
        assert scope_paths(again, VIEW) == [tree.streets[0].path]
        assert scope_paths(again, "cases.add_case") == [tree.streets[0].path]
        assert scope_paths(again, "accounts.manage_users") == []


def test_a_grant_made_by_the_service_is_seen_at_once(tree):
    user = make_user(role="grid_worker", region=tree.streets[0])
    assert scope_paths(fresh(user), VIEW) == [tree.streets[0].path]
    role_assign(
        actor=None,
        user=user,
        role=Role.objects.get(code="grid_worker"),
        region=tree.streets[1],
        audit=False,
    )
    expected = sorted([tree.streets[0].path, tree.streets[1].path])
    assert scope_paths(fresh(user), VIEW) == expected
    assert scope_paths(user, VIEW) == expected  # the object the caller kept


def test_a_grant_written_through_the_orm_is_seen_at_once(tree):
    user = make_user(role="grid_worker", region=tree.streets[0])
    assert has_perm_at(fresh(user), VIEW, tree.streets[1].path) is False
    RoleAssignment.objects.create(
        user=user, role=Role.objects.get(code="grid_worker"), region=tree.streets[1]
    )
    assert has_perm_at(fresh(user), VIEW, tree.streets[1].path) is True
    assert has_perm_at(user, VIEW, tree.streets[1].path) is True


def test_a_revoked_grant_is_gone_at_once(tree):
    user = make_user(role="grid_worker", region=tree.streets[0])
    assert scope_paths(fresh(user), VIEW) == [tree.streets[0].path]
    assignment = RoleAssignment.objects.select_related("user").get(user=user)
    role_revoke(actor=None, assignment=assignment)
    assert scope_paths(fresh(user), VIEW) == []
    assert scope_paths(assignment.user, VIEW) == []  # the object the service was given
    RoleAssignment.objects.create(
        user=user, role=Role.objects.get(code="grid_worker"), region=tree.streets[0]
    )
    assert scope_paths(fresh(user), VIEW) == [tree.streets[0].path]
    RoleAssignment.objects.filter(user=user).delete()
    assert scope_paths(fresh(user), VIEW) == []


def test_a_change_to_a_roles_permissions_reaches_its_holders(tree):
    role = Role.objects.create(code="reader", name="reader")
    holder = make_user(role="reader", region=tree.streets[0])
    bystander = make_user(role="grid_worker", region=tree.streets[0])
    bystander_stamp = fresh(bystander).grants_stamp
    assert scope_paths(fresh(holder), VIEW) == []
    perm = Permission.objects.get(content_type__app_label="geo", codename="view_region")
    role.permissions.add(perm)
    assert scope_paths(fresh(holder), VIEW) == [tree.streets[0].path]
    role.permissions.remove(perm)
    assert scope_paths(fresh(holder), VIEW) == []
    perm.role_set.add(role)  # the same change from the permission's side
    assert scope_paths(fresh(holder), VIEW) == [tree.streets[0].path]
    role.permissions.clear()
    assert scope_paths(fresh(holder), VIEW) == []
    assert fresh(bystander).grants_stamp == bystander_stamp


def test_a_bulk_writer_that_sends_no_signal_renews_the_stamp(tree):
    user = make_user()
    assert scope_paths(fresh(user), VIEW) == []
    RoleAssignment.objects.bulk_create(
        [RoleAssignment(user=user, role=Role.objects.get(code="grid_worker"), region=tree.county)]
    )
    grants_changed([user.pk])
    assert scope_paths(fresh(user), VIEW) == [tree.county.path]


def test_a_user_row_without_its_stamp_is_answered_from_the_database(tree):
    user = make_user(role="grid_worker", region=tree.streets[0])
    partial = User.objects.only("id", "is_active", "is_superuser").get(pk=user.pk)
    assert scope_paths(partial, VIEW) == [tree.streets[0].path]
    assert "grants_stamp" not in partial.__dict__  # no query was spent loading it


def test_stamps_are_random_so_a_reused_id_never_meets_an_old_entry(tree):
    a = make_user(role="grid_worker", region=tree.streets[0])
    b = make_user(role="grid_worker", region=tree.streets[1])
    assert fresh(a).grants_stamp != fresh(b).grants_stamp
    # Same id, another stamp (as after a rolled-back test on SQLite): another cache entry.
    impostor = fresh(b)
    impostor.pk = a.pk
    assert scope_paths(impostor, VIEW) == [tree.streets[0].path]
    assert scope_paths(fresh(a), VIEW) == [tree.streets[0].path]
