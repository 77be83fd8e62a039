"""Forms of the party pages: the resident's 点单 (few, large fields) and order actions."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wangge.core.exceptions import WanggeError

from .choices import Specialty

PERIODS = {
    "morning": (time(8, 0), time(12, 0)),
    "afternoon": (time(14, 0), time(18, 0)),
    "evening": (time(18, 0), time(21, 0)),
    "day": (time(8, 0), time(20, 0)),
}


class OrderForm(forms.Form):
    category = forms.ChoiceField(
        label=_("需要什么服务"), choices=Specialty.choices, widget=forms.RadioSelect
    )
    description = forms.CharField(
        label=_("具体说说"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": _("例如：厨房水龙头漏水")}),
    )
    day = forms.DateField(
        label=_("哪一天"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    period = forms.ChoiceField(
        label=_("什么时间"),
        choices=[
            ("morning", _("上午 8–12点")),
            ("afternoon", _("下午 2–6点")),
            ("evening", _("晚上 6–9点")),
            ("day", _("全天都行")),
        ],
        initial="morning",
    )
    address = forms.CharField(label=_("服务地址"), max_length=255, required=False)
    contact_name = forms.CharField(label=_("联系人"), max_length=64, required=False)
    contact_phone = forms.CharField(label=_("联系电话"), max_length=32, required=False)
    lon = forms.FloatField(required=False, widget=forms.HiddenInput)
    lat = forms.FloatField(required=False, widget=forms.HiddenInput)
    pay_minutes = forms.IntegerField(
        label=_("用时间银行支付（分钟，可不填）"), min_value=1, max_value=100_000, required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["day"].initial = timezone.localdate() + timedelta(days=1)

    def window(self) -> tuple[datetime, datetime]:
        day = self.cleaned_data["day"]
        start, end = PERIODS[self.cleaned_data["period"]]
        tz = timezone.get_current_timezone()
        return (
            datetime.combine(day, start, tzinfo=tz),
            datetime.combine(day, end, tzinfo=tz),
        )


def add_domain_error(form: forms.Form, exc: WanggeError) -> None:
    """Show a service's error on the form: on the named fields it knows, else on top."""
    placed = False
    for name in exc.errors:
        if name in form.fields:
            form.add_error(name, exc.message)
            placed = True
            break
    if not placed:
        form.add_error(None, exc.message)


WEEKDAYS = [
    ("0", _("周一")),
    ("1", _("周二")),
    ("2", _("周三")),
    ("3", _("周四")),
    ("4", _("周五")),
    ("5", _("周六")),
    ("6", _("周日")),
]


class VolunteerForm(forms.Form):
    """志愿者注册: skills from the service specialty list and weekly availability slots."""

    specialties = forms.MultipleChoiceField(
        label=_("我的特长"), choices=Specialty.choices, widget=forms.CheckboxSelectMultiple
    )
    weekdays = forms.MultipleChoiceField(
        label=_("哪几天有空"), choices=WEEKDAYS, widget=forms.CheckboxSelectMultiple
    )
    periods = forms.MultipleChoiceField(
        label=_("什么时间有空"),
        choices=[
            ("morning", _("上午 8–12点")),
            ("afternoon", _("下午 2–6点")),
            ("evening", _("晚上 6–9点")),
        ],
        widget=forms.CheckboxSelectMultiple,
    )
    capacity = forms.IntegerField(label=_("同时可接单数"), min_value=1, max_value=10, initial=2)

    def availability(self) -> list[list[int]]:
        out = []
        for d in self.cleaned_data["weekdays"]:
            for p in self.cleaned_data["periods"]:
                start, end = PERIODS[p]
                out.append([int(d), start.hour * 60, end.hour * 60])
        return out


class TeamForm(forms.Form):
    name = forms.CharField(label=_("队伍名称"), max_length=128)
    description = forms.CharField(label=_("简介"), max_length=255, required=False)


class ExchangeForm(forms.Form):
    """用时间兑换服务: spend saved minutes."""

    minutes = forms.IntegerField(label=_("兑换分钟数"), min_value=1, max_value=100_000)
    reason = forms.CharField(
        label=_("兑换什么服务"),
        max_length=255,
        widget=forms.TextInput(attrs={"placeholder": _("例如：理发一次")}),
    )
