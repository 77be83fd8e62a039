"""Demo of the open interfaces: an Open311 client with a known key, two GeoReport v2 requests
filed through the real Open311 service (one with attribute answers; client keys with the demo's
prefix, so that a rebuild deletes them with the other demo cases), and a webhook subscription
on the district, left deactivated (its URL points at nothing on the demo machine).

Deterministic: the key is derived from the seed (``o311_demo-<seed>``, documented in
docs/demo.md — a demo key, like the demo password); the requests go through intake, so their
tracking codes are drawn as for any report."""

from __future__ import annotations

from dataclasses import dataclass

from wangge.api.models import Open311Client, WebhookSubscription
from wangge.api.open311.keys import _hash
from wangge.api.open311.services import Open311Submission, request_create
from wangge.cases.catalogue import active_matter_type
from wangge.geo.models import Region

from .cases import CLIENT_KEY_PREFIX
from .city import CityPlan

DEMO_CLIENT = "演示-城市服务App"
DEMO_WEBHOOK = "演示推送（已停用）"


def demo_open311_key(seed: int) -> str:
    return f"o311_demo-{seed}"


@dataclass
class InterfacesResult:
    client: str
    requests: int
    webhook: bool


def interfaces_load(
    *, plan: CityPlan, seed: int, district: Region, requests: bool = True
) -> InterfacesResult:
    key = demo_open311_key(seed)
    client, _ = Open311Client.objects.update_or_create(
        name=DEMO_CLIENT,
        defaults={"key_prefix": key[:10], "key_hash": _hash(key), "is_active": True},
    )
    grids = list(
        Region.objects.filter(path__startswith=district.path, level="grid", is_active=True)
        .exclude(center_lon=None)
        .order_by("code")[: 2 if requests else 0]
    )
    filed = 0
    submissions = [
        Open311Submission(
            service_code="06010",
            description="小区东门外绿化带里堆了好几袋生活垃圾，已经两天没人清理。",
            address_string="东门外绿化带",
            attributes={"waste_kinds": ["household"], "volume": ["0.5"]},
        ),
        Open311Submission(
            service_code="01037",
            description="路灯晚上不亮，路口很黑。",
            first_name="先生",
            last_name="陈",
            phone="13900000002",
        ),
    ]
    for index, (grid, submission) in enumerate(zip(grids, submissions, strict=False)):
        if active_matter_type(submission.service_code) is None:
            continue
        submission.lat, submission.long = str(grid.center_lat), str(grid.center_lon)
        # The demo's prefix: ``wangge demo --force`` deletes these with the demo's cases.
        submission.client_key = f"{CLIENT_KEY_PREFIX}open311-{seed}-{index}"
        request_create(client=client, submission=submission)
        filed += 1
    WebhookSubscription.objects.update_or_create(
        name=DEMO_WEBHOOK,
        region=district,
        defaults={
            "url": "http://127.0.0.1:9/wangge-webhook",
            "secret": f"whsec_demo-{seed}",
            "events": ["case.created", "case.state_changed", "case.overdue", "case.rated"],
            "is_active": False,
        },
    )
    return InterfacesResult(client=DEMO_CLIENT, requests=filed, webhook=True)
