"""The demo city's open interfaces: a working Open311 key, two requests, a dormant webhook."""

from __future__ import annotations

import pytest

from wangge.api.models import Open311Request, WebhookSubscription
from wangge.api.open311.keys import client_authenticate
from wangge.demo.api import DEMO_CLIENT, demo_open311_key
from wangge.demo.city import DEFAULT_SEED
from wangge.demo.services import demo_load

pytestmark = pytest.mark.django_db


def test_the_demo_has_an_open311_client_requests_and_a_dormant_webhook(client) -> None:
    demo_load(small=True)
    key = demo_open311_key(DEFAULT_SEED)
    assert client_authenticate(key).name == DEMO_CLIENT
    links = list(Open311Request.objects.select_related("case"))
    assert len(links) == 2 and {link.case.source for link in links} == {"api"}
    assert any(link.attributes == {"waste_kinds": ["household"], "volume": 0.5} for link in links)
    (sub,) = WebhookSubscription.objects.all()
    assert not sub.is_active
    code = links[0].case.tracking_code
    assert client.get(f"/open311/v2/requests/{code}.json").json()[0]["service_request_id"] == code
    demo_load(small=True, force=True)  # a rebuild replaces them, nothing doubles
    assert Open311Request.objects.count() == 2 and WebhookSubscription.objects.count() == 1
