"""Field work pages (namespace ``registers``): recording a 走访/巡查 from a phone, with a GPS
check-in, notes and photos; and the care plans (关爱走访计划) of an area. Each view parses input,
calls one selector or service, and renders.

The visit page is built for a cheap phone on a poor network: one small form, no map library,
a few lines of script for the check-in (``registers/field.js``); without script or GPS the
visit is recorded without a check-in."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from wangge.accounts.permissions import has_perm_at, scope_paths
from wangge.core.exceptions import NotFound, PermissionDenied, WanggeError
from wangge.geo.models import Region
from wangge.geo.selectors import access_region
from wangge.web.views import perm_anywhere

from .choices import PersonFlag, VisitKind
from .selectors import VISIT_TARGETS, access_visit_target, careplans_for_area
from .services import PHOTO_MAX_BYTES, VISIT_MAX_PHOTOS, careplan_set, visit_create
from .services import _target_point as target_point

ADD_VISIT = "registers.add_visit"
CHANGE_CAREPLAN = "registers.change_careplan"
CRS_CHOICES = [("wgs84", "WGS-84"), ("gcj02", "GCJ-02"), ("bd09", "BD-09")]
# Service error keys → the form field that shows them.
ERROR_FIELDS = {"photos": "photos", "location": "lon", "notes": "notes"}


class _MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class _PhotosField(forms.FileField):
    widget = _MultipleFileInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.widget.attrs.update({"accept": "image/jpeg,image/png,image/webp"})

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if len(files) > VISIT_MAX_PHOTOS:
            raise forms.ValidationError(
                gettext_lazy("最多上传%(n)d张照片。") % {"n": VISIT_MAX_PHOTOS}
            )
        return files


class VisitForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("类型"), choices=VisitKind.choices)
    notes = forms.CharField(
        label=gettext_lazy("情况记录"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    photos = _PhotosField(label=gettext_lazy("照片（可选，最多6张）"))
    # The check-in, filled by field.js from navigator.geolocation (WGS-84); the CRS is explicit.
    lon = forms.FloatField(required=False, widget=forms.HiddenInput)
    lat = forms.FloatField(required=False, widget=forms.HiddenInput)
    crs = forms.ChoiceField(choices=CRS_CHOICES, initial="wgs84", widget=forms.HiddenInput)


def _add_domain_error(form: forms.Form, exc: WanggeError) -> None:
    for key in exc.errors or {}:
        name = ERROR_FIELDS.get(key, key)
        if name in form.fields:
            form.add_error(name, exc.message)
            return
    form.add_error(None, exc.message)


def _target_from_query(request: HttpRequest) -> tuple[str, Any]:
    source = request.POST if request.method == "POST" else request.GET
    for target_type in VISIT_TARGETS:
        if source.get(target_type):
            return target_type, access_visit_target(request.user, target_type, source[target_type])
    raise NotFound(_("请从待走访名单、人员或部件页面进入"))


def _target_label(target_type: str, target: Any) -> str:
    if target_type == "person":
        return str(target.name)
    if target_type == "household":
        return _("户号 %(no)s") % {"no": target.household_no}
    if target_type == "house":
        return str(target.address or target.code)
    if target_type == "component":
        return f"{target.class_name} {target.identifier}"
    return str(target.name)


@perm_anywhere(ADD_VISIT)
@require_http_methods(["GET", "POST"])
def visit_new(request: HttpRequest) -> HttpResponse:
    """记录走访/巡查 of one person, household, house, organisation or component (``?person=ID``
    and so on): kind, notes, photos and a GPS check-in; the distance to the target is shown."""
    target_type, target = _target_from_query(request)
    default_kind = VisitKind.VISIT if target_type in ("person", "household") else VisitKind.PATROL
    form = VisitForm(request.POST or None, request.FILES or None, initial={"kind": default_kind})
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            photos = [
                (f.name or "", f.read(PHOTO_MAX_BYTES + 1), f.content_type or "")
                for f in data["photos"]
            ]
            try:
                visit = visit_create(
                    actor=request.user,
                    kind=data["kind"],
                    target=target,
                    lon=data["lon"],
                    lat=data["lat"],
                    crs=data["crs"],
                    notes=data["notes"],
                    photos=photos,
                )
            except PermissionDenied as exc:
                raise HttpForbidden from exc
            except WanggeError as exc:
                _add_domain_error(form, exc)
            else:
                if visit.distance_m is not None:
                    text = _("已记录，签到位置距目标 %(d)s 米。") % {"d": f"{visit.distance_m:.0f}"}
                elif visit.lon is not None:
                    text = _("已记录（目标没有登记位置，未计算距离）。")
                else:
                    text = _("已记录（未签到）。")
                messages.success(request, text)
                if target_type == "person":
                    return redirect("registers:person", pk=target.pk)
                return redirect("registers:due_visits")
    point = target_point(target)
    context = {
        "form": form,
        "target_type": target_type,
        "target": target,
        "target_label": _target_label(target_type, target),
        "target_point": point,
        "max_mb": PHOTO_MAX_BYTES // (1024 * 1024),
    }
    return render(request, "registers/visit_new.html", context, status=status)


# --- care plans ---------------------------------------------------------------------------------
class CarePlanForm(forms.Form):
    group = forms.ChoiceField(label=gettext_lazy("对象类别"), choices=PersonFlag.choices)
    interval_days = forms.IntegerField(
        label=gettext_lazy("走访周期(天)"),
        min_value=1,
        max_value=366,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    active = forms.BooleanField(label=gettext_lazy("启用"), required=False, initial=True)


def _default_area(user: Any) -> Region | None:
    paths = scope_paths(user, CHANGE_CAREPLAN)
    qs = Region.objects.filter(is_active=True)
    if paths is not None:
        qs = qs.filter(path__in=paths)
    return qs.order_by("depth", "path").first()


@perm_anywhere(CHANGE_CAREPLAN)
@require_http_methods(["GET", "POST"])
def careplans(request: HttpRequest) -> HttpResponse:
    """关爱走访计划 of an area (``?area=CODE``, default: the user's own): the plans inherited
    from above and those set inside it; set or change a group's visit interval here."""
    code = request.POST.get("area") or request.GET.get("area")
    region = access_region(request.user, code) if code else _default_area(request.user)
    if region is None or not has_perm_at(request.user, CHANGE_CAREPLAN, region.path):
        raise Http404
    form = CarePlanForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            try:
                plan = careplan_set(
                    actor=request.user,
                    region=region,
                    group=data["group"],
                    interval_days=data["interval_days"],
                    active=data["active"],
                )
            except PermissionDenied as exc:
                raise HttpForbidden from exc
            except WanggeError as exc:
                _add_domain_error(form, exc)
            else:
                messages.success(
                    request,
                    _("已保存：%(g)s 每 %(n)s 天走访一次。")
                    % {"g": plan.get_group_display(), "n": plan.interval_days}
                    if plan.active
                    else _("已停用：%(g)s。") % {"g": plan.get_group_display()},
                )
                return redirect(f"{request.path}?area={region.code}")
    context = {
        "region": region,
        "rows": careplans_for_area(region),
        "form": form,
        "group_labels": dict(PersonFlag.choices),
    }
    return render(request, "registers/careplans.html", context, status=status)
