"""Reads of webhook subscriptions and deliveries, scoped to where the user holds
``api.manage_webhooks``; single objects through ``access_*`` (404 when missing or outside)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from wangge.accounts.permissions import path_filter, scope_paths
from wangge.core.exceptions import NotFound

from .models import WebhookDelivery, WebhookSubscription

MANAGE = "api.manage_webhooks"
NOT_FOUND = _("推送订阅或投递记录不存在，或不在您的管辖范围内。")


def _area(user: Any, field: str) -> Q | None:
    paths = scope_paths(user, MANAGE)
    if paths is None:
        return None
    return path_filter(field, paths) if paths else Q(pk__in=[])


def subscription_list_for_user(user: Any) -> QuerySet[WebhookSubscription]:
    qs = WebhookSubscription.objects.select_related("region").order_by("name", "id")
    q = _area(user, "region__path")
    return qs if q is None else qs.filter(q)


def access_subscription(user: Any, pk: Any) -> WebhookSubscription:
    try:
        key = int(pk)
    except (TypeError, ValueError) as exc:
        raise NotFound(NOT_FOUND) from exc
    sub = subscription_list_for_user(user).filter(pk=key).first()
    if sub is None:
        raise NotFound(NOT_FOUND)
    return sub


def delivery_list_for_user(
    user: Any, *, subscription: int | None = None, state: str | None = None
) -> QuerySet[WebhookDelivery]:
    qs = WebhookDelivery.objects.select_related("subscription", "subscription__region")
    q = _area(user, "subscription__region__path")
    if q is not None:
        qs = qs.filter(q)
    if subscription is not None:
        qs = qs.filter(subscription_id=subscription)
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("-created_at", "-id")


def access_delivery(user: Any, pk: Any) -> WebhookDelivery:
    try:
        key = int(pk)
    except (TypeError, ValueError) as exc:
        raise NotFound(NOT_FOUND) from exc
    delivery = delivery_list_for_user(user).filter(pk=key).first()
    if delivery is None:
        raise NotFound(NOT_FOUND)
    return delivery
