from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _fresh_indexes():
    """The locator index is per process; each test database has its own tree."""
    from wangge.geo import locator

    locator.reset()
    yield
    locator.reset()


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def pw(tree):
    """The party tree over the region tree: 2 street committees, 4 community committees,
    8 grid branches."""
    from .factories import make_party_tree

    return make_party_tree(tree)
