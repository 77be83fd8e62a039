from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _fresh_indexes():
    """The locator, classifier and calendar caches are per process; rebuild them per database."""
    from wangge.cases import classify, deadlines
    from wangge.geo import locator

    locator.reset()
    classify.reset()
    deadlines.invalidate_calendar()
    yield
    locator.reset()
    classify.reset()
    deadlines.invalidate_calendar()


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(tree):
    from wangge.cases.tests.factories import make_world

    return make_world(tree)
