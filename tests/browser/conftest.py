"""Shared Chromium for the browser tests: Debian's /usr/bin/chromium driven by Playwright's
sync API, with the flags this closed-network machine needs."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

# Playwright's sync API runs an event loop in this thread; Django's ORM must still be usable.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOT_DIR = os.environ.get("WANGGE_SCREENSHOT_DIR", "/tmp")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not shutil.which(CHROMIUM):
        pytest.skip("Chromium is not installed (make chromium)")
    from django.conf import settings

    if not (settings.VENDOR_DIR / "leaflet" / "leaflet.js").is_file():
        pytest.fail("front-end libraries are missing: run `make assets` (npm) first")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()
