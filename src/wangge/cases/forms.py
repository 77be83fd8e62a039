"""Case page forms: they parse and type-check input; the services decide what is allowed."""

from __future__ import annotations

import secrets
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from wangge.core.exceptions import WanggeError

from .choices import CaseState, Source, TimeUnit, Urgency
from .selectors import matter_type_list
from .services.attachments import max_bytes

CRS_CHOICES = [("wgs84", "WGS-84"), ("gcj02", "GCJ-02"), ("bd09", "BD-09")]
MAX_PHOTOS = 6

# Service error keys → the form field that shows them.
ERROR_FIELDS = {
    "location": "location",
    "file": "photos",
    "photos": "photos",
    "kind": "photos",
    "client_key": None,
    "checkin": "checkin_lon",
    "request": None,
    "subtasks": None,
    "phone": "reporter_phone",
}


def add_domain_error(form: forms.Form, exc: WanggeError) -> None:
    """A domain error on the form: per field when the service named one the form has, else on
    top (with the service's sentence either way, which says what is wrong)."""
    placed = False
    for key in exc.errors or {}:
        name = ERROR_FIELDS.get(key, key)
        if name and name in form.fields and not placed:
            form.add_error(name, exc.message)
            placed = True
    if not placed:
        form.add_error(None, exc.message)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Up to six photos; their type and size are checked by the attachment service."""

    widget = MultipleFileInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.widget.attrs.update({"accept": "image/jpeg,image/png,image/webp"})

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if len(files) > MAX_PHOTOS:
            raise forms.ValidationError(_("最多上传%(n)d张照片。") % {"n": MAX_PHOTOS})
        return files


def read_photos(files: list[UploadedFile]) -> list[bytes]:
    """The uploaded bytes, one past the size limit at most (the service refuses it)."""
    limit = max_bytes()
    return [f.read(limit + 1) for f in files]


def new_client_key() -> str:
    return secrets.token_urlsafe(18)


def _matter_choices(*, public_only: bool) -> list[tuple[str, Any]]:
    """Matter types grouped by their 大类, after a "not sure" choice (the text is classified)."""
    rows = matter_type_list(public_only=public_only).values_list("code", "name", "group_name")
    groups: dict[str, list[tuple[str, str]]] = {}
    for code, name, group in rows:
        groups.setdefault(group or "—", []).append((code, name))
    return [("", _("不确定，由工作人员分类")), *groups.items()]


class LocationMixin(forms.Form):
    """A point from the phone (WGS-84) or the map (the tiles' CRS), with its CRS explicit."""

    lon = forms.FloatField(required=False, widget=forms.HiddenInput)
    lat = forms.FloatField(required=False, widget=forms.HiddenInput)
    crs = forms.ChoiceField(choices=CRS_CHOICES, initial="wgs84", widget=forms.HiddenInput)
    location = forms.CharField(required=False, widget=forms.HiddenInput, label=_("位置"))
    address = forms.CharField(
        label=_("地址或位置描述"),
        required=False,
        max_length=255,
        help_text=_(
            "例如：某某路12号东门口。地址帮助工作人员找到现场；位置仍请定位或在地图上点选。"
        ),
    )


class ReportForm(LocationMixin):
    """The resident's report (no account needed)."""

    matter_type = forms.ChoiceField(label=_("问题类型"), required=False)
    title = forms.CharField(label=_("问题概述"), max_length=200)
    description = forms.CharField(label=_("详细描述"), required=False, widget=forms.Textarea)
    photos = PhotosField(label=_("照片（可选，最多6张）"))
    reporter_name = forms.CharField(label=_("您的称呼（可选）"), required=False, max_length=64)
    reporter_phone = forms.CharField(
        label=_("手机号（可选）"),
        required=False,
        max_length=20,
        help_text=_("留下手机号，办结后可凭查询码和手机号评价。"),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    phone_code = forms.RegexField(
        label=_("短信验证码（可选）"),
        required=False,
        regex=r"^\s*\d{6}\s*$",
        error_messages={"invalid": _("验证码为6位数字。")},
        help_text=_("验证手机号后，工作人员可看到“手机号已验证”，回访更方便。"),
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": "6"}
        ),
    )
    client_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("phone_code") and not (data.get("reporter_phone") or "").strip():
            self.add_error("reporter_phone", _("请填写接收验证码的手机号。"))
        return data

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["matter_type"].choices = _matter_choices(public_only=True)  # type: ignore[attr-defined]
        self.fields["description"].widget.attrs["rows"] = 4
        if not self.is_bound:
            self.initial["client_key"] = new_client_key()


class PhoneCodeForm(forms.Form):
    """The /report/ page's "get a code" button."""

    reporter_phone = forms.CharField(max_length=20)


class WorkerReportForm(ReportForm):
    """A grid worker's report from patrol, optionally resolved on the spot in one step."""

    urgency = forms.ChoiceField(
        label=_("紧急程度"), choices=Urgency.choices, initial="normal", required=False
    )
    on_spot = forms.BooleanField(label=_("已现场处置（一步办结）"), required=False)
    result = forms.CharField(
        label=_("处置结果"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    after_photos = PhotosField(label=_("处置后照片"))

    field_order = [
        "matter_type",
        "title",
        "description",
        "urgency",
        "photos",
        "address",
        "on_spot",
        "result",
        "after_photos",
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["matter_type"].choices = _matter_choices(public_only=False)  # type: ignore[attr-defined]
        self.fields["photos"].label = _("处置前/现场照片")
        for name in ("reporter_name", "reporter_phone"):
            del self.fields[name]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("on_spot"):
            if not (data.get("result") or "").strip():
                self.add_error("result", _("现场处置请填写处置结果。"))
            if not data.get("after_photos"):
                self.add_error("after_photos", _("现场处置请上传处置后照片。"))
        return data


# Which posted fields each action passes to ``case_transition``.
ACTION_FIELDS: dict[str, tuple[str, ...]] = {
    "accept": ("matter_type", "urgency"),
    "reclassify": ("matter_type", "urgency", "reason"),
    "reject": ("reason",),
    "merge": ("duplicate_of",),
    "dispatch": ("assignee", "department"),
    "reassign": ("assignee", "department", "reason"),
    "whistle": ("lead", "co", "instructions"),
    "claim": (),
    "return": ("reason",),
    "handle": ("result", "checkin_lon", "checkin_lat"),
    "verify": ("note",),
    "verify_fail": ("reason",),
    "close": ("note",),
    "rate": ("score", "reason"),
    "reopen": ("reason",),
    "request_suspend": ("reason",),
    "request_extend": ("reason", "extra_limit", "extra_unit"),
    "approve_suspend": (),
    "approve_extend": (),
    "deny_request": ("reason",),
    "resume": (),
    "cancel": ("reason",),
}


class TransitionForm(forms.Form):
    """One action of the case page's panel; each action's small form posts only its fields."""

    action = forms.ChoiceField(choices=[(a, a) for a in ACTION_FIELDS], widget=forms.HiddenInput)
    expected_version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    reason = forms.CharField(label=_("理由"), required=False, max_length=500)
    note = forms.CharField(label=_("备注"), required=False, max_length=500)
    result = forms.CharField(label=_("处置结果"), required=False, widget=forms.Textarea)
    assignee = forms.IntegerField(label=_("处置人员"), required=False)
    department = forms.IntegerField(label=_("处置部门"), required=False)
    lead = forms.IntegerField(label=_("牵头单位"), required=False)
    co = forms.TypedMultipleChoiceField(label=_("协办单位"), required=False, coerce=int)
    instructions = forms.CharField(label=_("工作要求"), required=False, max_length=2000)
    matter_type = forms.CharField(label=_("事项类型"), required=False, max_length=8)
    urgency = forms.ChoiceField(label=_("紧急程度"), required=False, choices=Urgency.choices)
    score = forms.IntegerField(label=_("评分"), required=False, min_value=1, max_value=5)
    extra_limit = forms.IntegerField(label=_("延长时限"), required=False, min_value=1)
    extra_unit = forms.ChoiceField(label=_("单位"), required=False, choices=TimeUnit.choices)
    duplicate_of = forms.IntegerField(label=_("主案件"), required=False)
    checkin_lon = forms.FloatField(required=False)
    checkin_lat = forms.FloatField(required=False)
    photos = PhotosField(label=_("照片"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Any integer: the service checks that the departments exist and are active.
        posted = self.data.getlist("co") if hasattr(self.data, "getlist") else []
        self.fields["co"].choices = [(v, v) for v in posted]  # type: ignore[attr-defined]

    def action_data(self) -> dict[str, Any]:
        """The service's keyword arguments for the chosen action (empty values left out)."""
        data = self.cleaned_data
        return {
            f: data[f] for f in ACTION_FIELDS[data["action"]] if data.get(f) not in (None, "", [])
        }


class SubTaskForm(forms.Form):
    action = forms.ChoiceField(
        choices=[("accept", "accept"), ("return", "return"), ("handle", "handle")],
        widget=forms.HiddenInput,
    )
    expected_version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    reason = forms.CharField(label=_("退回理由"), required=False, max_length=500)
    result = forms.CharField(label=_("处置结果"), required=False, widget=forms.Textarea)
    photos = PhotosField(label=_("处置照片"))
    next = forms.CharField(required=False, max_length=200)


class FeedbackForm(forms.Form):
    """The reporter rates (or asks to reopen) with the phone number given at reporting."""

    phone = forms.CharField(
        label=_("上报时留的手机号"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    score = forms.TypedChoiceField(
        label=_("满意度"),
        coerce=int,
        choices=[
            (5, _("5 非常满意")),
            (4, _("4 满意")),
            (3, _("3 基本满意")),
            (2, _("2 不满意")),
            (1, _("1 非常不满意")),
        ],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("评价说明"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    reopen = forms.BooleanField(label=_("问题没有解决，申请重新办理"), required=False)


class SuperviseForm(forms.Form):
    message = forms.CharField(
        label=_("督办意见"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


class TrackLookupForm(forms.Form):
    code = forms.CharField(label=_("查询码"), max_length=16)


class QueueFilterForm(forms.Form):
    state = forms.ChoiceField(
        label=_("状态"),
        required=False,
        choices=[("", _("全部")), ("open", _("办理中（未结）")), *CaseState.choices],
    )
    matter_type = forms.ChoiceField(label=_("事项类型"), required=False)
    grid = forms.CharField(label=_("区域/网格代码"), required=False, max_length=32)
    overdue = forms.ChoiceField(
        label=_("时限"),
        required=False,
        choices=[("", _("全部")), ("1", _("已超时")), ("0", _("未超时"))],
    )
    source = forms.ChoiceField(
        label=_("来源"), required=False, choices=[("", _("全部")), *Source.choices]
    )
    q = forms.CharField(label=_("标题或查询码"), required=False, max_length=64)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        rows = matter_type_list(active_only=False).values_list("code", "name")
        choices = [("", _("全部")), *((c, f"{c} {n}") for c, n in rows)]
        self.fields["matter_type"].choices = choices  # type: ignore[attr-defined]
