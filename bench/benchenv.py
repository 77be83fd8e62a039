"""Environment shared by the benchmarks that start the project in child processes.

With ``DEBUG=0`` (as the benchmarks run, like production) the settings refuse to start without
personal-data keys; each run gets fresh random ones (scratch databases only)."""

from __future__ import annotations

import base64
import secrets


def pii_keys() -> dict[str, str]:
    return {
        "WANGGE_PII_KEYS": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "WANGGE_PII_INDEX_KEY": secrets.token_urlsafe(48),
    }
