"""Fixed-window counters in Django's cache for the public channels (intake, feedback, phone
codes). With ``REDIS_URL`` the cache is Redis, so every web worker and host shares the counts;
the embedded default (local memory) counts per process."""

from __future__ import annotations

from django.core.cache import BaseCache, caches
from django.http import HttpRequest


def hit(key: str, *, limit: int, window: int, cache: BaseCache | None = None) -> bool:
    """Count one event under ``key`` in a window of ``window`` seconds; True when this event is
    over ``limit``. ``add`` + ``incr`` are atomic on Redis (SET NX, INCR) and in local memory."""
    cache = cache if cache is not None else caches["default"]
    key = f"ratelimit:{key}"
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        count = 1
    return count > limit


def client_address(request: HttpRequest) -> str:
    """The client's address as the server saw it (a reverse proxy must set REMOTE_ADDR)."""
    return str(request.META.get("REMOTE_ADDR", "") or "")
