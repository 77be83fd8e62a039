"""Shared fixtures: a small region tree and named users in and out of area."""

from __future__ import annotations

import pytest


@pytest.fixture
def tree(db):
    from wangge.geo.tests.factories import make_tree

    return make_tree()


@pytest.fixture
def password():
    from wangge.accounts.tests.factories import PASSWORD

    return PASSWORD


@pytest.fixture
def admin_user(db):
    from wangge.accounts.models import User

    return User.objects.create_superuser("root", password="Wangge-test-2026")
