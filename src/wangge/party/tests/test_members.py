"""Members, profiles and the 双报到 workflow."""

from __future__ import annotations

import pytest

from wangge.accounts.tests.factories import make_user
from wangge.core.exceptions import Conflict, InvalidTransition, PermissionDenied, ValidationError
from wangge.party.choices import DualReportState
from wangge.party.models import DualReport, PartyMember, PointEntry
from wangge.party.selectors import member_list_for_user, points_balance
from wangge.party.services import (
    dual_report_request,
    dual_report_transition,
    helper_update_profile,
    member_create,
)

from .factories import make_member, make_person

pytestmark = pytest.mark.django_db


def test_a_person_is_an_active_member_once(pw, tree):
    member = make_member(pw.branch(tree.grids[0]))
    with pytest.raises(Conflict):
        member_create(actor=None, person=member.person, branch=pw.branch(tree.grids[1]))


def test_bad_specialties_or_slots_change_nothing(pw, tree):
    person = make_person(tree.grids[0])
    with pytest.raises(ValidationError, match="特长"):
        member_create(
            actor=None, person=person, branch=pw.branch(tree.grids[0]), specialties=["magic"]
        )
    with pytest.raises(ValidationError, match="时段"):
        member_create(
            actor=None,
            person=person,
            branch=pw.branch(tree.grids[0]),
            availability=[[1, 600, 500]],
        )
    assert not PartyMember.objects.filter(person=person).exists()


def test_a_member_updates_their_own_profile_but_not_someone_elses(pw, tree):
    me = make_member(pw.branch(tree.grids[0]), username="me")
    other = make_member(pw.branch(tree.grids[0]), username="other")
    helper_update_profile(actor=me.user, helper=me, specialties=["law", "it"], capacity=3)
    me.refresh_from_db()
    assert me.specialties == ["law", "it"] and me.capacity == 3
    with pytest.raises(PermissionDenied):
        helper_update_profile(actor=me.user, helper=other, capacity=5)


def _in_service_member(pw, tree):
    return make_member(
        pw.branch(tree.grids[-1]), username="zaizhi", in_service=True, work_unit_name="区税务局"
    )


def test_dual_report_request_approve_and_report_in(pw, tree):
    member = _in_service_member(pw, tree)  # works in street 2
    community = tree.communities[0]  # lives in street 1
    secretary = make_user("sec1", role="community_secretary", region=community)
    report = dual_report_request(
        actor=member.user,
        member=member,
        community=community,
        commitments=["每月参加一次社区志愿服务", "提供法律咨询"],
    )
    assert report.state == DualReportState.REQUESTED
    assert report.work_unit_name == "区税务局"
    # The community sees the request; before approval the member is not its member to see.
    assert member not in member_list_for_user(secretary)
    report = dual_report_transition(
        actor=secretary, report=report, action="approve", expected_version=report.version
    )
    assert report.state == DualReportState.APPROVED and report.decided_by == secretary
    assert member in member_list_for_user(secretary)  # now serving the community
    report = dual_report_transition(
        actor=secretary, report=report, action="report_in", expected_version=report.version
    )
    assert report.state == DualReportState.REPORTED and report.reported_on is not None
    assert points_balance(member) == 10  # the DUAL-REPORT rule
    # Reporting in twice is refused and earns nothing more.
    with pytest.raises(InvalidTransition):
        dual_report_transition(
            actor=secretary, report=report, action="report_in", expected_version=report.version
        )
    assert PointEntry.objects.filter(member=member).count() == 1


def test_rejecting_needs_a_reason_and_another_community_cannot_decide(pw, tree):
    member = _in_service_member(pw, tree)
    report = dual_report_request(
        actor=member.user, member=member, community=tree.communities[0], commitments=["助老"]
    )
    outsider = make_user("sec2", role="community_secretary", region=tree.communities[1])
    with pytest.raises(PermissionDenied):
        dual_report_transition(
            actor=outsider, report=report, action="approve", expected_version=report.version
        )
    secretary = make_user("sec1", role="community_secretary", region=tree.communities[0])
    with pytest.raises(ValidationError, match="审核意见"):
        dual_report_transition(
            actor=secretary, report=report, action="reject", expected_version=report.version
        )
    report.refresh_from_db()
    assert report.state == DualReportState.REQUESTED
    report = dual_report_transition(
        actor=secretary,
        report=report,
        action="reject",
        expected_version=report.version,
        note="请先向单位党组织报备",
    )
    assert report.state == DualReportState.REJECTED
    # A rejected request does not block a new one.
    again = dual_report_request(
        actor=member.user, member=member, community=tree.communities[0], commitments=["助老"]
    )
    assert again.pk != report.pk


def test_one_open_request_per_community_and_a_stale_version_is_refused(pw, tree):
    member = _in_service_member(pw, tree)
    report = dual_report_request(
        actor=member.user, member=member, community=tree.communities[0], commitments=["助老"]
    )
    with pytest.raises(Conflict):
        dual_report_request(
            actor=member.user, member=member, community=tree.communities[0], commitments=["x"]
        )
    secretary = make_user("sec1", role="community_secretary", region=tree.communities[0])
    with pytest.raises(Conflict):
        dual_report_transition(
            actor=secretary, report=report, action="approve", expected_version=report.version + 1
        )
    with pytest.raises(ValidationError, match="社区"):
        dual_report_request(
            actor=member.user, member=member, community=tree.grids[0], commitments=["x"]
        )
    with pytest.raises(ValidationError, match="承诺"):
        dual_report_request(
            actor=member.user, member=member, community=tree.communities[1], commitments=[]
        )
    assert DualReport.objects.count() == 1


def test_the_member_may_withdraw_their_own_request(pw, tree):
    member = _in_service_member(pw, tree)
    report = dual_report_request(
        actor=member.user, member=member, community=tree.communities[0], commitments=["助老"]
    )
    report = dual_report_transition(
        actor=member.user, report=report, action="withdraw", expected_version=report.version
    )
    assert report.state == DualReportState.WITHDRAWN
