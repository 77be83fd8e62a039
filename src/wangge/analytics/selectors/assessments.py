"""Assessment schemes, runs, results and reports the user may see."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from wangge.accounts.permissions import path_filter, scope_paths
from wangge.cases.models import Department
from wangge.core.exceptions import NotFound
from wangge.geo.models import Region

from ..models import (
    AssessmentResult,
    AssessmentRun,
    AssessmentScheme,
    Report,
)
from .areas import VIEW_ASSESSMENT

# --- assessments and reports ---------------------------------------------------------------


def scheme_list_for_user(user: Any) -> QuerySet[AssessmentScheme]:
    paths = scope_paths(user, VIEW_ASSESSMENT)
    qs = AssessmentScheme.objects.select_related("region")
    if paths is None:
        return qs
    return qs.filter(path_filter("region__path", paths)) if paths else qs.none()


def result_list_for_user(user: Any, run: AssessmentRun) -> QuerySet[AssessmentResult]:
    """Results of ``run`` the user may see: those in their area; department staff (without an
    area grant) see their own departments' scores only."""
    qs = AssessmentResult.objects.filter(run=run).select_related("region", "department")
    paths = scope_paths(user, VIEW_ASSESSMENT)
    if paths is None:
        return qs
    own = Q(department__members=user) if getattr(user, "is_authenticated", False) else Q(pk__in=[])
    area = path_filter("region__path", paths) if paths else Q(pk__in=[])
    return qs.filter(area | own).distinct()


def run_list_for_user(user: Any) -> QuerySet[AssessmentRun]:
    paths = scope_paths(user, VIEW_ASSESSMENT)
    qs = AssessmentRun.objects.select_related("scheme", "scheme__region", "scheme_version")
    if paths is None:
        return qs
    area = path_filter("scheme__region__path", paths) if paths else Q(pk__in=[])
    own = (
        Q(results__department__members=user)
        if getattr(user, "is_authenticated", False)
        else Q(pk__in=[])
    )
    return qs.filter(area | own).distinct()


def access_run(user: Any, pk: int) -> AssessmentRun:
    run = run_list_for_user(user).filter(pk=pk).first()
    if run is None:
        raise NotFound(_("考核结果不存在或不在您的管辖范围内。"))
    return run


def may_view_assessments(user: Any) -> bool:
    from wangge.accounts.permissions import has_perm_anywhere

    if has_perm_anywhere(user, VIEW_ASSESSMENT):
        return True
    return bool(getattr(user, "is_authenticated", False)) and user.departments.exists()


def report_list_for_user(user: Any) -> QuerySet[Report]:
    return Report.objects.restrict(user, "view").select_related("region", "department")


def access_report(user: Any, pk: int) -> Report:
    report = report_list_for_user(user).filter(pk=pk).first()
    if report is None:
        raise NotFound(_("报告不存在或不在您的管辖范围内。"))
    return report


def departments_in(region: Region) -> QuerySet[Department]:
    return Department.objects.filter(
        Q(region__path__startswith=region.path) | Q(pk__in=[])
    ).order_by("code")
