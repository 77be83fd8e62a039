"""Reads that pages need and no domain app offers yet.

``audit_list_for_user`` belongs with the audit log in ``core``; it lives here until core grows a
selectors entry for it, and is written the same way (scoped first, then filtered)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import QuerySet

from wangge.accounts.permissions import path_filter, scope_paths
from wangge.core.models import AuditRecord

VIEW_AUDIT = "core.view_auditrecord"


def audit_list_for_user(
    user: Any,
    *,
    action: str = "",
    actor: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[AuditRecord]:
    """Audit records under the user's ``core.view_auditrecord`` grants, newest first.

    Records without a region path (system-wide changes) are visible to superusers only. Dates
    are calendar days in the display time zone (Asia/Shanghai)."""
    paths = scope_paths(user, VIEW_AUDIT)
    qs = AuditRecord.objects.all()
    if paths is not None:
        if not paths:
            return qs.none()
        qs = qs.filter(path_filter("region_path", paths))
    if action:
        qs = qs.filter(action__startswith=action)
    if actor:
        qs = qs.filter(actor_name__icontains=actor)
    if date_from:
        qs = qs.filter(created_at__date__gte=date_from)
    if date_to:
        qs = qs.filter(created_at__date__lte=date_to)
    return qs.order_by("-seq")


def audit_actions_for_user(user: Any) -> list[str]:
    """Distinct action names the user can filter by."""
    return list(
        audit_list_for_user(user).order_by("action").values_list("action", flat=True).distinct()
    )
