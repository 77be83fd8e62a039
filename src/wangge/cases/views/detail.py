"""The staff case page: everything about one case and a panel with the actions this user may
take in this state, each posting ``expected_version`` (a stale page changes nothing)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from wangge.accounts.permissions import has_perm_at
from wangge.core.exceptions import (
    Conflict,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from wangge.web.mapcrs import transform_collection

from ..choices import OPEN_STATES
from ..forms import SuperviseForm, TransitionForm, add_domain_error, read_photos
from ..models import Case
from ..selectors import (
    access_case,
    case_actions_for_user,
    case_assignee_candidates,
    case_audit_for_user,
    case_duplicates_for_user,
    case_phone_verified,
    case_timeline,
    departments_for_case,
    matter_type_list,
)
from ..services import attachment_add, case_supervise, case_transition
from ..services.attachments import atomic_with_files
from ..workflow import TRANSITIONS
from .common import (
    STALE,
    SUPERVISE_CASE,
    TRANSITION_CASE,
    VIEW_CASE,
    case_staff,
    map_settings,
    safe_next,
    tile_crs,
)

STAFF = (VIEW_CASE, TRANSITION_CASE)
REASON_ACTIONS = (
    "reject",
    "return",
    "verify_fail",
    "reopen",
    "request_suspend",
    "deny_request",
    "cancel",
)
DANGER_ACTIONS = ("reject", "cancel", "return", "verify_fail", "deny_request")


def _map_data(case: Case) -> dict[str, Any]:
    features: list[dict[str, Any]] = []
    if case.grid.boundary:
        features.append(
            {
                "type": "Feature",
                "geometry": case.grid.boundary,
                "properties": {"kind": "grid", "name": case.grid.name},
            }
        )
    features.append(
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [case.lon, case.lat]},
            "properties": {"kind": "case", "name": case.tracking_code},
        }
    )
    return transform_collection({"type": "FeatureCollection", "features": features}, tile_crs())


def _detail_context(request: HttpRequest, case: Case, **extra: Any) -> dict[str, Any]:
    user = request.user
    actions = case_actions_for_user(user, case)
    needs_people = {"dispatch", "reassign", "whistle"} & set(actions)
    context: dict[str, Any] = {
        "case": case,
        "now": timezone.now(),
        "timeline": case_timeline(case),
        "attachments": case.attachments.all(),
        "subtasks": case.subtasks.select_related("department"),
        "requests": case.requests.select_related("requested_by", "decided_by"),
        "escalations": case.escalations.select_related("region"),
        "supervisions": case.supervisions.select_related("issued_by"),
        "duplicates": case_duplicates_for_user(user, case) if "merge" in actions else [],
        "merged": case.duplicates.all(),
        "actions": [(a, TRANSITIONS[a]) for a in actions],
        "action_names": actions,
        "assignees": case_assignee_candidates(case) if needs_people else [],
        "departments": departments_for_case(case) if needs_people else [],
        "matter_types": matter_type_list() if {"accept", "reclassify"} & set(actions) else [],
        "audit": case_audit_for_user(user, case),
        "may_supervise": has_perm_at(user, SUPERVISE_CASE, case.region_path),
        "supervise_form": SuperviseForm(),
        "map_data": _map_data(case),
        "open_action": "",
        "open_states": OPEN_STATES,
        "reason_actions": REASON_ACTIONS,
        "danger_actions": DANGER_ACTIONS,
        "has_after": case.attachments.filter(kind="after").exists(),
        "phone_verified": bool(case.reporter_phone) and case_phone_verified(case),
        **map_settings(),
    }
    context.update(extra)
    return context


@case_staff(*STAFF)
@require_GET
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = access_case(request.user, pk)
    context = _detail_context(request, case, open_action=request.GET.get("open", ""))
    return render(request, "cases/detail.html", context)


@case_staff(*STAFF)
@require_POST
def case_act(request: HttpRequest, pk: int) -> HttpResponse:
    """One transition of the panel; photos (after-photos for ``handle``) go in with it."""
    user = request.user
    case = access_case(user, pk)
    form = TransitionForm(request.POST, request.FILES)
    if not form.is_valid():
        error = _("提交的内容无效：%(e)s") % {
            "e": "；".join(str(e) for errs in form.errors.values() for e in errs)
        }
        ctx = _detail_context(request, case, error=error, open_action=request.POST.get("action"))
        return render(request, "cases/detail.html", ctx, status=422)
    action = form.cleaned_data["action"]
    data = form.action_data()
    status = 200
    try:
        if form.cleaned_data["expected_version"] != case.version:
            raise Conflict(STALE)
        if action == "merge" and data.get("duplicate_of"):
            # The case merged into must be visible to the user too.
            data["duplicate_of"] = access_case(user, data["duplicate_of"]).pk
        with atomic_with_files():  # photos and the step, or nothing
            kind = "after" if action == "handle" else "other"
            for content in read_photos(form.cleaned_data["photos"]):
                attachment_add(actor=user, case=case, kind=kind, content=content)
            case_transition(
                actor=user,
                case=case,
                action=action,
                expected_version=form.cleaned_data["expected_version"],
                **data,
            )
    except Conflict:
        error, status = str(STALE), 409
    except InvalidTransition as exc:
        error, status = exc.message, 409
    except PermissionDenied as exc:
        error, status = exc.message, 403
    except NotFound:
        error, status = _("主案件不存在或不在您的管辖范围内。"), 422
    except ValidationError as exc:
        add_domain_error(form, exc)
        error, status = exc.message, 422
    else:
        messages.success(request, _("已完成：%(a)s。") % {"a": TRANSITIONS[action].label})
        return redirect(safe_next(request, f"/cases/{case.pk}/"))
    case.refresh_from_db()
    ctx = _detail_context(request, case, error=error, open_action=action, form=form)
    return render(request, "cases/detail.html", ctx, status=status)


@case_staff(SUPERVISE_CASE)
@require_POST
def case_supervise_view(request: HttpRequest, pk: int) -> HttpResponse:
    """督办: a recorded notice to the case's handlers."""
    case = access_case(request.user, pk)
    form = SuperviseForm(request.POST)
    status = 422
    if form.is_valid():
        try:
            supervision = case_supervise(
                actor=request.user, case=case, message=form.cleaned_data["message"]
            )
        except PermissionDenied as exc:
            form.add_error(None, exc.message)
            status = 403
        except ValidationError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(
                request, _("已督办，通知%(n)d人。") % {"n": len(supervision.recipients)}
            )
            return redirect("cases:detail", pk=case.pk)
    ctx = _detail_context(request, case, supervise_form=form, open_action="supervise")
    return render(request, "cases/detail.html", ctx, status=status)


@case_staff(*STAFF)
@require_GET
def case_photo(request: HttpRequest, pk: int, attachment: int) -> HttpResponseBase:
    """A case photo, for whoever may see the case (media are not served publicly)."""
    case = access_case(request.user, pk)
    item = case.attachments.filter(pk=attachment).first()
    if item is None:
        raise Http404
    response = FileResponse(item.file.open("rb"), content_type=item.content_type)
    response["Cache-Control"] = "private, max-age=3600"
    return response
