"""Permission matrix of the api app: Open311 (public, key-protected POST), the webhook pages and
``/api/v1/webhooks/`` × anon / none (a resident) / in (sysadmin of street 1, street-1 objects) /
out (the same sysadmin, street-2 objects)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from wangge.accounts.services import api_token_create
from wangge.accounts.tests.factories import make_user
from wangge.api.choices import DeliveryState
from wangge.api.models import WebhookDelivery, WebhookSubscription
from wangge.cases.tests.factories import centre, make_case

pytestmark = pytest.mark.django_db

COVERED = {
    "open311:discovery",
    "open311:services",
    "open311:service",
    "open311:requests",
    "open311:request",
    "open311:token",
    "integrations:webhooks",
    "integrations:webhook",
    "integrations:webhook_active",
    "integrations:delivery_replay",
    "GET /api/v1/webhooks/subscriptions",
    "POST /api/v1/webhooks/subscriptions",
    "GET /api/v1/webhooks/subscriptions/{subscription_id}",
    "POST /api/v1/webhooks/subscriptions/{subscription_id}/active",
    "GET /api/v1/webhooks/deliveries",
    "GET /api/v1/webhooks/deliveries/{delivery_id}",
    "POST /api/v1/webhooks/deliveries/{delivery_id}/replay",
    "GET /api/v1/cases/matter-types/{code}",
}


@dataclass
class W:
    world: Any
    resident: Any
    admin: Any
    subs: dict[str, WebhookSubscription]
    deliveries: dict[str, WebhookDelivery]
    tokens: dict[str, str]


def _sub(name: str, region: Any) -> WebhookSubscription:
    sub = WebhookSubscription.objects.create(
        name=name,
        url="http://127.0.0.1:9/hook",  # never called: the deliveries below are already final
        secret="whsec_x",
        events=["case.created"],
        region=region,
    )
    return sub


@pytest.fixture
def w(world) -> W:
    street1, street2 = world.tree.streets
    resident = make_user("m_resident", role="resident", region=street1)
    admin = make_user("m_admin", role="sysadmin", region=street1)
    subs = {"in": _sub("SUB-IN", street1), "out": _sub("SUB-OUT", street2)}
    deliveries = {
        k: WebhookDelivery.objects.create(
            subscription=s,
            event="case.created",
            event_id=f"EVT-{k.upper()}",
            payload={"id": f"EVT-{k.upper()}"},
            state=DeliveryState.FAILED,
            attempts=6,
        )
        for k, s in subs.items()
    }
    tokens = {
        "none": api_token_create(actor=None, user=resident, name="t")[1],
        "in": api_token_create(actor=None, user=admin, name="t")[1],
    }
    return W(world, resident, admin, subs, deliveries, tokens)


def page_client(w: W, who: str) -> Client:
    client = Client()
    if who == "none":
        client.force_login(w.resident)
    elif who in ("in", "out"):
        client.force_login(w.admin)
    return client


def api_call(w: W, who: str, method: str, url: str, body: Any = None) -> Any:
    client = Client()
    headers = {}
    if who != "anon":
        headers["HTTP_AUTHORIZATION"] = f"Bearer {w.tokens['none' if who == 'none' else 'in']}"
    if method == "GET":
        return client.get(url, **headers)
    return client.post(url, json.dumps(body or {}), content_type="application/json", **headers)


# --- Pages ---------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["anon", "none", "in", "out"])
def test_webhook_pages(w: W, who: str) -> None:
    client = page_client(w, who)
    target = "out" if who == "out" else "in"
    sub, delivery = w.subs[target], w.deliveries[target]
    responses = {
        "list": client.get("/integrations/webhooks/"),
        "detail": client.get(f"/integrations/webhooks/{sub.pk}/"),
        "replay": client.post(f"/integrations/deliveries/{delivery.pk}/replay/"),
        "active": client.post(f"/integrations/webhooks/{sub.pk}/active/", {"active": "0"}),
    }
    for name, r in responses.items():
        if who == "anon":
            assert r.status_code == 302 and r["Location"].startswith("/login/?next="), name
        elif who == "none":
            assert r.status_code == 403, name
        elif who == "in":
            assert r.status_code in (200, 302), (name, r.status_code)
        elif name == "list":
            assert r.status_code == 200 and b"SUB-OUT" not in r.content
        else:
            assert r.status_code == 404, name
    sub.refresh_from_db()
    assert sub.is_active == (who != "in")
    replays = WebhookDelivery.objects.filter(replay_of=delivery).count()
    assert replays == (1 if who == "in" else 0)
    if who == "in":
        assert b"SUB-IN" in responses["list"].content


# --- API -----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["anon", "none", "in", "out"])
def test_webhook_api(w: W, who: str, settings) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    target = "out" if who == "out" else "in"
    sub, delivery = w.subs[target], w.deliveries[target]
    region = w.world.tree.streets[1 if who == "out" else 0]
    base = "/api/v1/webhooks"
    create = {
        "name": f"new-{who}",
        "url": "https://example.org/hook",
        "events": ["case.created"],
        "region": region.code,
    }
    r = {
        "list_subs": api_call(w, who, "GET", f"{base}/subscriptions"),
        "create": api_call(w, who, "POST", f"{base}/subscriptions", create),
        "get_sub": api_call(w, who, "GET", f"{base}/subscriptions/{sub.pk}"),
        "list_del": api_call(w, who, "GET", f"{base}/deliveries"),
        "get_del": api_call(w, who, "GET", f"{base}/deliveries/{delivery.pk}"),
        "replay": api_call(w, who, "POST", f"{base}/deliveries/{delivery.pk}/replay"),
        "active": api_call(
            w, who, "POST", f"{base}/subscriptions/{sub.pk}/active", {"active": False}
        ),
    }
    codes = {k: v.status_code for k, v in r.items()}
    if who == "anon":
        assert set(codes.values()) == {401}
    elif who == "none":
        assert codes == {
            "list_subs": 200,
            "create": 403,
            "get_sub": 404,
            "active": 404,
            "list_del": 200,
            "get_del": 404,
            "replay": 404,
        }
        assert r["list_subs"].json()["count"] == 0 and r["list_del"].json()["count"] == 0
    elif who == "in":
        assert codes == {
            "list_subs": 200,
            "create": 201,
            "get_sub": 200,
            "active": 200,
            "list_del": 200,
            "get_del": 200,
            "replay": 201,
        }
        assert "whsec_" in r["create"].json()["secret"]
        assert [s["name"] for s in r["list_subs"].json()["results"]] == ["SUB-IN"]
        assert r["get_del"].json()["event_id"] == "EVT-IN"
    else:
        assert codes == {
            "list_subs": 200,
            "create": 404,
            "get_sub": 404,
            "active": 404,
            "list_del": 200,
            "get_del": 404,
            "replay": 404,
        }
        assert b"SUB-OUT" not in r["list_subs"].content
        assert b"EVT-OUT" not in r["list_del"].content
    assert WebhookSubscription.objects.filter(name=f"new-{who}").exists() == (who == "in")


# --- Open311: public reads, the client key as the credential for POST -------------------------


@pytest.mark.parametrize("who", ["anon", "none", "in"])
def test_open311_is_public_and_the_key_guards_writes(w: W, who: str, api_key: str) -> None:
    client = page_client(w, who)  # a signed-in session changes nothing
    case = make_case(w.world)
    base = "/open311/v2"
    for url in (
        f"{base}/discovery.json",
        f"{base}/services.xml",
        f"{base}/services/06010.json",
        f"{base}/requests.json",
        f"{base}/requests/{case.tracking_code}.xml",
    ):
        assert client.get(url).status_code == 200, url
    # The public catalogue (cases app, added with the REST completion of issue 7).
    assert client.get("/api/v1/cases/matter-types/06010").status_code == 200
    assert client.get("/api/v1/cases/matter-types/00000").status_code == 404
    lon, lat = centre(w.world.grid)
    data = {"service_code": "06010", "lat": lat, "long": lon, "description": "垃圾"}
    assert client.post(f"{base}/requests.json", data).status_code == 403  # no key
    posted = client.post(f"{base}/requests.json", {**data, "api_key": api_key})
    assert posted.status_code == 201
    token = posted.json()[0]["token"]
    assert client.get(f"{base}/tokens/{token}.json").status_code == 200
    assert client.get(f"{base}/tokens/not-a-token.json").status_code == 404
