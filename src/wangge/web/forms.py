"""Page forms: they parse and type-check input; the services decide what is allowed."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from wangge.accounts.models import Role
from wangge.core.exceptions import WanggeError


def add_domain_error(form: forms.Form, exc: WanggeError) -> None:
    """Show a domain error on the form: per field when the service named fields, else on top."""
    placed = False
    for field, messages in (exc.errors or {}).items():
        if field in form.fields:
            for message in messages:
                form.add_error(field, message)
            placed = True
    if not placed:
        form.add_error(None, exc.message)


class RegionCodeField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("区域代码"))
        kwargs.setdefault("max_length", 32)
        kwargs.setdefault("help_text", _("例如 320571001（街道）或 320571001001001（网格）"))
        super().__init__(**kwargs)

    def clean(self, value: Any) -> str:
        return str(super().clean(value)).strip()


class RoleChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        # System role names are stored in Chinese and have catalogue entries; custom ones pass.
        return gettext(obj.name)


class GrantForm(forms.Form):
    role = RoleChoiceField(label=_("角色"), queryset=Role.objects.order_by("id"))
    region_code = RegionCodeField()


class UserCreateForm(GrantForm):
    username = forms.CharField(label=_("用户名"), max_length=150)
    display_name = forms.CharField(label=_("姓名"), max_length=64, required=False)
    mobile = forms.CharField(label=_("手机号"), max_length=11, required=False)
    title = forms.CharField(label=_("职务"), max_length=64, required=False)
    password = forms.CharField(
        label=_("初始密码"),
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )

    field_order = ["username", "display_name", "mobile", "title", "password", "role", "region_code"]


class TokenForm(forms.Form):
    name = forms.CharField(label=_("令牌名称"), max_length=100)


class AuditFilterForm(forms.Form):
    action = forms.CharField(label=_("操作"), required=False, max_length=64)
    actor = forms.CharField(label=_("操作人"), required=False, max_length=150)
    date_from = forms.DateField(
        label=_("起始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("截止日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
