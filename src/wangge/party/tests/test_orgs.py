"""The party organisation tree: kinds, parents, regions, 一网格一支部, temporary branches."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from wangge.accounts.tests.factories import make_user
from wangge.core.exceptions import Conflict, PermissionDenied, ValidationError
from wangge.party.choices import OrgKind, OrgStatus
from wangge.party.models import PartyOrg
from wangge.party.selectors import coverage_report
from wangge.party.services import (
    branch_for_region,
    party_org_attach_member,
    party_org_create,
    party_org_dissolve,
    party_org_expire_due,
    party_org_set_secretary,
)

from .factories import make_member

pytestmark = pytest.mark.django_db


def test_the_tree_has_one_branch_per_grid(pw, tree):
    assert len(pw.branches) == len(tree.grids) == 8
    branch = pw.branch(tree.grids[0])
    assert branch.parent.kind == OrgKind.COMMUNITY_COMMITTEE
    assert branch.parent.parent.kind == OrgKind.STREET_COMMITTEE


def test_a_second_grid_branch_on_the_same_grid_is_refused(pw, tree):
    grid = tree.grids[0]
    with pytest.raises(Conflict, match="一网格一支部"):
        party_org_create(
            actor=None,
            kind=OrgKind.GRID_BRANCH,
            code="DUP",
            name="重复支部",
            region=grid,
            parent=pw.branch(grid).parent,
        )
    assert not PartyOrg.objects.filter(code="DUP").exists()


def test_a_grid_branch_must_hang_under_a_community_committee_of_its_region(pw, tree):
    grid = tree.grids[0]
    with pytest.raises(ValidationError, match="上级须为"):
        party_org_create(
            actor=None,
            kind=OrgKind.GRID_BRANCH,
            code="X1",
            name="x",
            region=grid,
            parent=pw.street_committees[0],
        )
    other_committee = pw.committees[-1]  # street 2
    with pytest.raises(ValidationError, match="区域内"):
        party_org_create(
            actor=None,
            kind=OrgKind.BUILDING_GROUP,
            code="X2",
            name="x",
            region=grid,
            parent=pw.branch(tree.grids[-1]),
        )
    with pytest.raises(ValidationError, match="不能设在"):
        party_org_create(
            actor=None,
            kind=OrgKind.COMMUNITY_COMMITTEE,
            code="X3",
            name="x",
            region=grid,
            parent=other_committee.parent,
        )


def test_a_temporary_branch_needs_dates_and_a_purpose(pw, tree):
    community = tree.communities[0]
    with pytest.raises(ValidationError, match="成立日期和撤销日期"):
        party_org_create(
            actor=None,
            kind=OrgKind.TEMPORARY_BRANCH,
            code="T0",
            name="虫草山临时党支部",
            region=community,
            parent=pw.committees[0],
            purpose="采挖季",
        )
    with pytest.raises(ValidationError, match="目的"):
        party_org_create(
            actor=None,
            kind=OrgKind.TEMPORARY_BRANCH,
            code="T0",
            name="虫草山临时党支部",
            region=community,
            parent=pw.committees[0],
            start_date=date(2026, 5, 1),
            end_date=date(2026, 6, 30),
        )
    with pytest.raises(ValidationError, match="不能早于"):
        party_org_create(
            actor=None,
            kind=OrgKind.TEMPORARY_BRANCH,
            code="T0",
            name="虫草山临时党支部",
            region=community,
            parent=pw.committees[0],
            start_date=date(2026, 6, 1),
            end_date=date(2026, 5, 1),
            purpose="采挖季",
        )


def test_a_temporary_branch_expires_after_its_end_date(pw, tree):
    today = timezone.localdate()
    temp = party_org_create(
        actor=None,
        kind=OrgKind.TEMPORARY_BRANCH,
        code="T1",
        name="虫草山临时党支部",
        region=tree.grids[0],
        parent=pw.committees[0],
        start_date=today - timedelta(days=60),
        end_date=today,
        purpose="虫草采挖季",
    )
    member = make_member(pw.branch(tree.grids[1]))
    party_org_attach_member(actor=None, org=temp, member=member)
    # On its last day it is in force (and dispatches before the grid branch? no: the grid
    # branch of the same region comes first).
    assert party_org_expire_due() == []
    assert temp.is_active_on(today)
    # The day after its end date the periodic job dissolves it.
    tomorrow = timezone.now() + timedelta(days=1)
    assert party_org_expire_due(now=tomorrow) == [temp.pk]
    temp.refresh_from_db()
    assert temp.status == OrgStatus.DISSOLVED
    assert not temp.is_active_on(timezone.localdate(tomorrow))
    member.refresh_from_db()
    assert member.branch == pw.branch(tree.grids[1]) and member.is_active  # home branch kept
    assert party_org_expire_due(now=tomorrow) == []  # idempotent


def test_a_temporary_branch_serves_a_region_without_a_grid_branch_only_while_in_force(pw, tree):
    today = timezone.localdate()
    street = tree.streets[1]
    temp = party_org_create(
        actor=None,
        kind=OrgKind.TEMPORARY_BRANCH,
        code="T2",
        name="秋收临时党支部",
        region=street,
        parent=pw.street_committees[1],
        start_date=today,
        end_date=today + timedelta(days=30),
        purpose="秋收",
    )
    assert branch_for_region(street) == temp
    later = timezone.now() + timedelta(days=40)
    assert branch_for_region(street, on=later) == pw.street_committees[1]


def test_coverage_names_grids_without_a_branch_and_branches_without_a_secretary(pw, tree):
    admin = make_user("cov", role="community_secretary", region=tree.streets[0])
    branch = pw.branch(tree.grids[0])
    party_org_dissolve(actor=admin, org=branch, reason="合并网格")
    member = make_member(pw.branch(tree.grids[1]))
    party_org_set_secretary(actor=admin, org=pw.branch(tree.grids[1]), member=member)
    report = coverage_report(admin)
    assert report.grids == 4  # street 1 only
    assert [g.pk for g in report.grids_without_branch] == [tree.grids[0].pk]
    assert pw.branch(tree.grids[1]) not in report.branches_without_secretary
    assert pw.branch(tree.grids[2]) in report.branches_without_secretary
    assert all(
        b.region_path.startswith(tree.streets[0].path) for b in report.branches_without_secretary
    )


def test_the_secretary_must_be_a_member_of_the_organisation(pw, tree):
    outsider = make_member(pw.branch(tree.grids[-1]))
    with pytest.raises(ValidationError, match="书记"):
        party_org_set_secretary(actor=None, org=pw.branch(tree.grids[0]), member=outsider)


def test_creating_an_organisation_needs_the_permission_in_the_area(pw, tree):
    secretary = make_user("sec", role="community_secretary", region=tree.streets[0])
    with pytest.raises(PermissionDenied):
        party_org_create(
            actor=secretary,
            kind=OrgKind.JOINT_BRANCH,
            code="J1",
            name="联合党支部",
            region=tree.communities[-1],
            parent=pw.committees[-1],
        )
    org = party_org_create(
        actor=secretary,
        kind=OrgKind.JOINT_BRANCH,
        code="J1",
        name="商圈联合党支部",
        region=tree.communities[0],
        parent=pw.committees[0],
    )
    assert org.region_path == tree.communities[0].path
