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
