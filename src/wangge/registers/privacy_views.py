"""PIPL pages on a person (namespace ``registers``): the subject's own data export (个人信息
查阅复制, PIPL art. 45) and erasure (删除, art. 47). Both need a reason and are audited by the
services; erasure also needs an explicit confirmation. Each view parses input, calls one
service, and responds."""

from __future__ import annotations

import io
import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from wangge.core.exceptions import PermissionDenied, WanggeError
from wangge.web.views import perm_anywhere

from .selectors import access_person
from .services import person_erase, person_subject_export

EXPORT_PERSON = "registers.export_person"
ERASE_PERSON = "registers.erase_person"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def subject_export_xlsx(data: dict[str, Any]) -> bytes:
    """The subject export as a workbook: one sheet of fields, one per list (visits, tenancies)."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = _("个人信息")
    ws.append([_("项目"), _("内容")])
    lists = {k: v for k, v in data.items() if isinstance(v, list) and v and isinstance(v[0], dict)}
    for key, value in data.items():
        if key in lists:
            continue
        if isinstance(value, dict | list):
            value = json.dumps(value, ensure_ascii=False, sort_keys=True)
        ws.append([key, "" if value is None else value])
    for key, rows in lists.items():
        sheet = wb.create_sheet(key)
        columns = list(rows[0])
        sheet.append(columns)
        for row in rows:
            sheet.append([row.get(c) for c in columns])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@perm_anywhere(EXPORT_PERSON)
@require_POST
def person_subject_export_view(request: HttpRequest, pk: int) -> HttpResponse:
    """导出本人数据: everything held about the person, unmasked, as JSON or .xlsx."""
    person = access_person(request.user, pk)
    fmt = request.POST.get("format", "json")
    if fmt not in ("json", "xlsx"):
        fmt = "json"
    try:
        data = person_subject_export(
            actor=request.user, person=person, reason=request.POST.get("reason", "")
        )
    except PermissionDenied as exc:
        raise HttpForbidden from exc
    except WanggeError as exc:
        messages.error(request, exc.message)
        return redirect("registers:person", pk=person.pk)
    stamp = timezone.localtime().strftime("%Y%m%d")
    if fmt == "xlsx":
        response = HttpResponse(subject_export_xlsx(data), content_type=XLSX)
    else:
        body = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True, default=str)
        response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="person-{person.pk}-{stamp}.{fmt}"'
    response["Cache-Control"] = "no-store"
    return response


@perm_anywhere(ERASE_PERSON)
@require_POST
def person_erase_view(request: HttpRequest, pk: int) -> HttpResponse:
    """删除个人信息: identifiers, contacts, special groups and addresses go; the tombstone row
    stays so visits, tenancies and case history still resolve."""
    person = access_person(request.user, pk)
    if request.POST.get("confirm") != "yes":
        messages.error(request, _("请勾选确认后再删除"))
        return redirect("registers:person", pk=person.pk)
    try:
        person_erase(actor=request.user, person=person, reason=request.POST.get("reason", ""))
    except PermissionDenied as exc:
        raise HttpForbidden from exc
    except WanggeError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已删除该人员的个人信息，走访和事件记录保留。"))
    return redirect("registers:person", pk=person.pk)
