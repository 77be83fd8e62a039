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


@pytest.fixture(autouse=True)
def _point_rules(request):
    """The rules migration's rows, restored when a transactional test flushed them."""
    if request.node.get_closest_marker("django_db") is None:
        return
    request.getfixturevalue("db")
    from wangge.party.services.points import point_rules_ensure_defaults

    point_rules_ensure_defaults()
