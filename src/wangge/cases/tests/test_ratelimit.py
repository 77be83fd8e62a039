"""The public channels' rate limit: a fixed-window counter in Django's cache. With REDIS_URL
set (the PostgreSQL pass of .ci/run) the counter lives in Redis and is shared by separate cache
connections and separate processes, i.e. by every web worker."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
from django.conf import settings
from django.core.cache import caches

from wangge.cases import ratelimit

needs_redis = pytest.mark.skipif(
    not getattr(settings, "REDIS_URL", ""), reason="needs REDIS_URL (the .ci/run PostgreSQL pass)"
)


def _key() -> str:
    return f"test:{uuid.uuid4().hex}"


def test_the_limit_allows_n_events_per_key_and_window():
    key = _key()
    assert [ratelimit.hit(key, limit=3, window=60) for _ in range(5)] == [
        False,
        False,
        False,
        True,
        True,
    ]
    assert ratelimit.hit(_key(), limit=3, window=60) is False  # another key counts apart


@needs_redis
def test_with_redis_the_cache_is_djangos_redis_backend_and_answers():
    cache = caches["default"]
    assert type(cache).__mro__[1].__module__ == "django.core.cache.backends.redis"
    key = _key()
    cache.set(key, "ok", 10)
    assert cache.get(key) == "ok"  # fails when Redis is configured but unreachable


@needs_redis
def test_with_redis_two_cache_connections_share_one_limit():
    first = caches.create_connection("default")
    second = caches.create_connection("default")
    assert first is not second and first._cache is not second._cache  # own clients and pools
    key = _key()
    hits = [ratelimit.hit(key, limit=3, window=60, cache=c) for c in (first, second, first)]
    assert hits == [False, False, False]
    assert ratelimit.hit(key, limit=3, window=60, cache=second) is True


@needs_redis
def test_with_redis_another_process_sees_the_same_count():
    key = _key()
    assert ratelimit.hit(key, limit=2, window=60) is False
    script = (
        "import django; django.setup();"
        "from wangge.cases import ratelimit;"
        f"h = lambda: ratelimit.hit({key!r}, limit=2, window=60);"
        "print(h(), h())"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "wangge.settings"}
    out = subprocess.run(  # noqa: S603 (our own interpreter and script)
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.split()
    assert out == ["False", "True"]  # the second process made the 2nd and 3rd events
    assert ratelimit.hit(key, limit=2, window=60) is True


@needs_redis
def test_clearing_the_cache_leaves_other_prefixes_alone():
    from django.core.cache.backends.redis import RedisCache

    ours = caches["default"]
    params = {"KEY_PREFIX": f"other-{uuid.uuid4().hex}"}
    theirs = RedisCache(settings.CACHES["default"]["LOCATION"], params)
    theirs.set("k", 1, 30)
    ours.set("k", 2, 30)
    ours.clear()
    assert ours.get("k") is None and theirs.get("k") == 1
    theirs.delete("k")
