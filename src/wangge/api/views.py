"""Pages for administrators: webhook subscriptions and the delivery log with a replay button
(``/integrations/``, namespace ``integrations``; ``api.manage_webhooks``)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from wangge.accounts.permissions import has_perm_at, scope_paths
from wangge.cases.views.common import case_staff
from wangge.core.exceptions import NotFound, WanggeError
from wangge.geo.models import Region

from .choices import DeliveryState, WebhookEvent
from .selectors import (
    access_delivery,
    access_subscription,
    delivery_list_for_user,
    subscription_list_for_user,
)
from .webhooks import MANAGE, delivery_replay, subscription_create, subscription_set_active


class SubscriptionForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("名称"), max_length=100)
    url = forms.URLField(label=gettext_lazy("接收地址"), max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        label=gettext_lazy("订阅事件"),
        choices=WebhookEvent.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    region = forms.CharField(
        label=gettext_lazy("区域代码"),
        max_length=32,
        help_text=gettext_lazy("订阅该区域及其下级区域的事件"),
    )


def _default_region(user: Any) -> str:
    paths = scope_paths(user, MANAGE) or []
    if not paths:
        return ""
    pk = [p for p in paths[0].split("/") if p][-1]
    region = Region.objects.filter(pk=pk).only("code").first()
    return region.code if region else ""


@case_staff(MANAGE)
def webhook_list(request: HttpRequest) -> HttpResponse:
    secret = ""
    if request.method == "POST":
        form = SubscriptionForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            region = Region.objects.filter(code=data["region"].strip()).first()
            if region is None or not has_perm_at(request.user, MANAGE, region.path):
                form.add_error("region", _("区域不存在或不在您的管辖范围内。"))
            else:
                try:
                    sub, secret = subscription_create(
                        actor=request.user,
                        name=data["name"],
                        url=data["url"],
                        events=data["events"],
                        region=region,
                    )
                except WanggeError as exc:
                    form.add_error(None, exc.message)
                else:
                    messages.success(request, _("已创建推送订阅“%(n)s”。") % {"n": sub.name})
                    form = SubscriptionForm(initial={"region": region.code})
    else:
        form = SubscriptionForm(initial={"region": _default_region(request.user)})
    status = 422 if request.method == "POST" and form.errors else 200
    return render(
        request,
        "api/webhooks.html",
        {
            "subscriptions": subscription_list_for_user(request.user),
            "form": form,
            "secret": secret,
        },
        status=status,
    )


@case_staff(MANAGE)
def webhook_detail(request: HttpRequest, pk: int) -> HttpResponse:
    sub = access_subscription(request.user, pk)
    state = request.GET.get("state") or None
    if state not in DeliveryState.values:
        state = None
    deliveries_qs = delivery_list_for_user(request.user, subscription=sub.pk, state=state)
    page = Paginator(deliveries_qs.prefetch_related("log"), 25)
    deliveries = page.get_page(request.GET.get("page"))
    return render(
        request,
        "api/webhook_detail.html",
        {
            "sub": sub,
            "page": deliveries,
            "state": state or "",
            "states": DeliveryState.choices,
            "event_names": [str(dict(WebhookEvent.choices).get(e, e)) for e in sub.events],
        },
    )


@require_POST
@case_staff(MANAGE)
def webhook_active(request: HttpRequest, pk: int) -> HttpResponse:
    sub = access_subscription(request.user, pk)
    active = request.POST.get("active") == "1"
    subscription_set_active(actor=request.user, subscription=sub, active=active)
    messages.success(request, _("已启用该订阅。") if active else _("已停用该订阅。"))
    return redirect("integrations:webhook", pk=sub.pk)


@require_POST
@case_staff(MANAGE)
def delivery_replay_view(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = access_delivery(request.user, pk)
    try:
        copy = delivery_replay(actor=request.user, delivery=delivery)
    except WanggeError as exc:
        if isinstance(exc, NotFound):
            raise
        if getattr(request, "htmx", False):
            return HttpResponse(exc.message, status=exc.status)
        messages.error(request, exc.message)
        return redirect("integrations:webhook", pk=delivery.subscription_id)
    copy = access_delivery(request.user, copy.pk)  # reload: the attempt may have run already
    if getattr(request, "htmx", False):
        return render(
            request,
            "api/partials/delivery_row.html",
            {"d": copy, "replayed": True},
        )
    messages.success(request, _("已重新发送，投递编号 %(id)s。") % {"id": copy.pk})
    return redirect("integrations:webhook", pk=delivery.subscription_id)
