"""Schema-based fuzzing (schemathesis) of ``/api/v1/`` from its own OpenAPI document, on a live
server, authenticated with a bearer token of a district commander who also manages webhooks.

Bounded: ``WANGGE_FUZZ_EXAMPLES`` examples per operation (default 8) so the suite stays fast;
``bench/bench_fuzz.py`` runs the same checks with many more. Checks: no 5xx, every documented
response matches its schema and content type; afterwards no case without its timeline entry and an
intact audit chain (no request left partial data)."""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import pytest
import schemathesis

from .fuzzing import fuzz_operation, operations

pytestmark = pytest.mark.django_db(transaction=True)

EXAMPLES = int(os.environ.get("WANGGE_FUZZ_EXAMPLES", "8"))


@pytest.fixture
def fuzz_token(transactional_db: Any, settings: Any, tmp_path: Any) -> str:
    from django.core.cache import cache

    from wangge.accounts.services import api_token_create
    from wangge.accounts.tests.factories import make_user
    from wangge.api.models import ServiceAttribute
    from wangge.api.open311.seed import seed_service_attributes
    from wangge.cases import classify
    from wangge.cases.tests.factories import make_case, make_world
    from wangge.geo import locator
    from wangge.geo.tests.factories import make_tree

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path
    settings.CASES_PUBLIC_RATE_PER_MINUTE = 100_000
    cache.clear()
    locator.reset()
    classify.reset()
    seed_service_attributes(ServiceAttribute)
    world = make_world(make_tree())
    for state in ("reported", "accepted", "in_progress", "closed"):
        make_case(world, state=state)
    user = make_user("fuzzer", role="district_commander", region=world.tree.county)
    from wangge.accounts.models import Role, RoleAssignment

    RoleAssignment.objects.create(
        user=user, role=Role.objects.get(code="sysadmin"), region=world.tree.county
    )
    return api_token_create(actor=None, user=user, name="fuzz")[1]


def test_api_survives_fuzzing(live_server: Any, fuzz_token: str) -> None:
    from wangge.cases.models import Case
    from wangge.core.audit import audit_verify

    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/v1/openapi.json")
    base_url = live_server.url
    ops = operations(schema)
    assert len(ops) >= 20
    failures: list[str] = []
    statuses: Counter[int] = Counter()
    for op in ops:
        failures += fuzz_operation(op, base_url, fuzz_token, EXAMPLES, statuses)
    assert not failures, "\n\n".join(failures[:20])
    print(f"fuzzed {len(ops)} operations, statuses {dict(sorted(statuses.items()))}")
    assert not any(code >= 500 for code in statuses)
    assert statuses[200] + statuses[201] > len(ops)  # authenticated, not just refused
    # Cases filed through the API all have their timeline (the seeded ones were written directly).
    assert (
        not Case.objects.filter(events__isnull=True)
        .exclude(tracking_code__startswith="T0")
        .exists()
    )
    assert list(audit_verify()) == []
