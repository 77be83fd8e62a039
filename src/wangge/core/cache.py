"""Django's built-in Redis cache, with ``clear()`` limited to this deployment's key prefix.

The stock ``RedisCache.clear()`` runs FLUSHDB: every key of the Redis database goes, including
those of other sites, of parallel test workers and of other CI runs that share the server. Here
it deletes only ``<KEY_PREFIX>:*`` (SCAN + UNLINK in batches); everything else is the stock
backend."""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache

BATCH = 500


class RedisCache(DjangoRedisCache):
    def clear(self) -> None:
        backend: Any = self._cache  # type: ignore[attr-defined]  # the stock RedisCacheClient
        client = backend.get_client(None, write=True)
        pattern = f"{self.key_prefix}:*" if self.key_prefix else "*"
        batch: list[bytes] = []
        for key in client.scan_iter(match=pattern, count=BATCH):
            batch.append(key)
            if len(batch) >= BATCH:
                client.unlink(*batch)
                batch.clear()
        if batch:
            client.unlink(*batch)
