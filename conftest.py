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


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the product's default language: a request that switched the thread to
    English (language menu, Accept-Language on the API) must not leak into the next test."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)
