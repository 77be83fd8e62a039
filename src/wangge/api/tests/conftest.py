from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _fresh_indexes(settings, tmp_path):
    """Locator, classifier and calendar are cached per process; rebuild them per database.
    Photos go to a scratch directory; rate counters start at zero."""
    from django.core.cache import cache

    from wangge.api.open311.services import reset_attribute_cache
    from wangge.cases import classify, deadlines
    from wangge.geo import locator

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path
    cache.clear()
    reset_attribute_cache()
    locator.reset()
    classify.reset()
    deadlines.invalidate_calendar()
    yield
    locator.reset()
    classify.reset()
    deadlines.invalidate_calendar()


@pytest.fixture
def world(tree):
    from wangge.cases.tests.factories import make_world

    return make_world(tree)


@pytest.fixture
def api_key(db):
    from wangge.api.open311.keys import client_create

    _client, raw = client_create(actor="test", name="city-311")
    return raw
