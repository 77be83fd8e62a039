"""``/api/v1/webhooks/``: subscriptions, the delivery log and replays (``api.manage_webhooks``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from wangge.accounts.permissions import has_perm_anywhere, has_perm_at
from wangge.core.exceptions import NotFound, PermissionDenied
from wangge.geo.models import Region

from .choices import DeliveryState, WebhookEvent
from .selectors import (
    access_delivery,
    access_subscription,
    delivery_list_for_user,
    subscription_list_for_user,
)
from .webhooks import MANAGE, delivery_replay, subscription_create, subscription_set_active

router = Router(tags=["webhooks"])
MAX_PAGE_SIZE = 100


class SubscriptionOut(Schema):
    id: int
    name: str
    url: str
    events: list[str]
    region: str = Field(..., description="region code whose subtree the subscription covers")
    is_active: bool
    created_at: datetime

    @staticmethod
    def resolve_region(obj: Any) -> str:
        return str(obj.region.code)


class SubscriptionCreated(SubscriptionOut):
    secret: str = Field(..., description="HMAC-SHA256 signing secret, shown once")


class SubscriptionIn(Schema):
    name: str = Field(..., max_length=100)
    url: str = Field(..., max_length=500)
    events: list[str] = Field(..., description=", ".join(WebhookEvent.values))
    region: str = Field(..., max_length=32, description="region code")


class ActiveIn(Schema):
    active: bool


class AttemptOut(Schema):
    number: int
    attempted_at: datetime
    duration_ms: int
    status_code: int | None
    error: str
    response_excerpt: str


class DeliveryOut(Schema):
    id: int
    subscription_id: int
    event: str
    event_id: str
    state: str
    attempts: int
    next_attempt_at: datetime | None
    last_status: int | None
    last_error: str
    replay_of_id: int | None
    created_at: datetime
    delivered_at: datetime | None


class DeliveryDetailOut(DeliveryOut):
    payload: dict[str, Any]
    log: list[AttemptOut]

    @staticmethod
    def resolve_log(obj: Any) -> list[Any]:
        return list(obj.log.all())


class Page(Schema):
    count: int
    page: int
    page_size: int


class SubscriptionPage(Page):
    results: list[SubscriptionOut]


class DeliveryPage(Page):
    results: list[DeliveryOut]


class WebhookPageQuery(Schema):
    page: int = Field(1, ge=1, le=100_000)
    page_size: int = Field(20, ge=1, le=MAX_PAGE_SIZE)


class DeliveryQuery(WebhookPageQuery):
    subscription: int | None = Field(None, ge=1, le=2**62)
    state: DeliveryState | None = None


def _page(qs: Any, query: WebhookPageQuery) -> dict[str, Any]:
    start = (query.page - 1) * query.page_size
    return {
        "count": qs.count(),
        "page": query.page,
        "page_size": query.page_size,
        "results": list(qs[start : start + query.page_size]),
    }


@router.get("/subscriptions", response=SubscriptionPage)
def list_subscriptions(request: HttpRequest, query: Query[WebhookPageQuery]) -> Any:
    return _page(subscription_list_for_user(request.user), query)


@router.post("/subscriptions", response={201: SubscriptionCreated})
def create_subscription(request: HttpRequest, payload: SubscriptionIn) -> Any:
    if not has_perm_anywhere(request.user, MANAGE):
        raise PermissionDenied(_("您无权管理推送订阅。"))
    region = Region.objects.filter(code=payload.region.strip()).first()
    if region is None or not has_perm_at(request.user, MANAGE, region.path):
        raise NotFound(_("区域不存在或不在您的管辖范围内。"))
    sub, secret = subscription_create(
        actor=request.user,
        name=payload.name,
        url=payload.url,
        events=payload.events,
        region=region,
    )
    sub.secret = secret
    return Status(201, sub)


@router.get("/subscriptions/{int:subscription_id}", response=SubscriptionOut)
def get_subscription(request: HttpRequest, subscription_id: int) -> Any:
    return access_subscription(request.user, subscription_id)


@router.post("/subscriptions/{int:subscription_id}/active", response=SubscriptionOut)
def set_subscription_active(request: HttpRequest, subscription_id: int, payload: ActiveIn) -> Any:
    sub = access_subscription(request.user, subscription_id)
    return subscription_set_active(actor=request.user, subscription=sub, active=payload.active)


@router.get("/deliveries", response=DeliveryPage)
def list_deliveries(request: HttpRequest, query: Query[DeliveryQuery]) -> Any:
    qs = delivery_list_for_user(
        request.user,
        subscription=query.subscription,
        state=query.state.value if query.state else None,
    )
    return _page(qs, query)


@router.get("/deliveries/{int:delivery_id}", response=DeliveryDetailOut)
def get_delivery(request: HttpRequest, delivery_id: int) -> Any:
    return access_delivery(request.user, delivery_id)


@router.post("/deliveries/{int:delivery_id}/replay", response={201: DeliveryOut})
def replay_delivery(request: HttpRequest, delivery_id: int) -> Any:
    delivery = access_delivery(request.user, delivery_id)
    return Status(201, delivery_replay(actor=request.user, delivery=delivery))
