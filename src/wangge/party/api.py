"""``/api/v1/party/``: organisations and coverage, members, the party-household map layer,
service orders (点单, list, one, matching candidates, transitions) and the caller's summary."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.responses import Status

from wangge.core.exceptions import NotFound
from wangge.geo.models import Region

from . import selectors as sel
from .choices import OPEN_ORDER_STATES
from .models import TimeAccount
from .schemas import (
    CandidatesOut,
    CoverageOut,
    ExchangeIn,
    MemberOut,
    OrderIn,
    OrderOut,
    OrderPage,
    OrderTransitionIn,
    OrgOut,
    PartyMeOut,
    StatementOut,
    TransferOut,
    VolunteerIn,
    VolunteerOut,
)
from .services import (
    order_candidates,
    order_transition,
    person_of_user,
    service_order_create,
    timebank_spend_self,
    volunteer_register_self,
)

router = Router(tags=["party"])
MAX_PAGE_SIZE = 100


class PageQuery(Schema):
    page: int = 1
    page_size: int = 20


def _page(qs: Any, query: PageQuery) -> dict[str, Any]:
    size = max(1, min(query.page_size, MAX_PAGE_SIZE))
    page = max(1, query.page)
    return {
        "count": qs.count(),
        "page": page,
        "page_size": size,
        "results": list(qs[(page - 1) * size : page * size]),
    }


@router.get("/orgs", response=list[OrgOut])
def list_orgs(request: HttpRequest) -> Any:
    """Party organisations in the caller's area."""
    return list(sel.party_org_list_for_user(request.user)[:1000])


@router.get("/coverage", response=CoverageOut)
def coverage(request: HttpRequest) -> Any:
    """一网格一支部 coverage of the caller's area."""
    report = sel.coverage_report(request.user)
    return {
        "grids": report.grids,
        "branches": report.branches,
        "grids_without_branch": [g.code for g in report.grids_without_branch],
        "branches_without_secretary": [b.code for b in report.branches_without_secretary],
    }


@router.get("/members", response=list[MemberOut])
def list_members(request: HttpRequest, branch: int | None = None) -> Any:
    org = sel.access_party_org(request.user, branch) if branch is not None else None
    return list(sel.member_list_for_user(request.user, branch=org).filter(is_active=True)[:1000])


@router.get("/members/{member_id}", response=MemberOut)
def get_member(request: HttpRequest, member_id: int) -> Any:
    return sel.access_member(request.user, member_id)


@router.get("/households.geojson", response=dict[str, Any])
def party_households(request: HttpRequest) -> Any:
    """党员户 and 党员中心户 as GeoJSON points (WGS-84) for the 民情地图 layer."""
    return sel.party_households_geojson(request.user)


@router.post("/orders", response={201: OrderOut})
def create_order(request: HttpRequest, payload: OrderIn) -> Any:
    """群众点单 (for oneself; staff with ``party.add_serviceorder`` for a resident)."""
    region = None
    if payload.region:
        region = Region.objects.restrict(request.user, "view").filter(code=payload.region).first()
        if region is None:
            raise NotFound("region")
    order = service_order_create(
        actor=request.user,
        category=payload.category,
        description=payload.description,
        window_start=payload.window_start,
        window_end=payload.window_end,
        address=payload.address,
        lon=payload.lon,
        lat=payload.lat,
        crs=payload.crs,
        region=region,
        contact_name=payload.contact_name,
        contact_phone=payload.contact_phone,
    )
    return Status(201, order)


class OrderQuery(PageQuery):
    state: str | None = None
    open: bool = False


@router.get("/orders", response=OrderPage)
def list_orders(request: HttpRequest, query: Query[OrderQuery]) -> Any:
    qs = sel.order_list_for_user(request.user, state=query.state).order_by("-created_at", "-id")
    if query.open:
        qs = qs.filter(state__in=OPEN_ORDER_STATES)
    return _page(qs, query)


@router.get("/orders/{order_id}", response=OrderOut)
def get_order(request: HttpRequest, order_id: int) -> Any:
    return sel.access_order(request.user, order_id)


@router.get("/orders/{order_id}/candidates", response=CandidatesOut)
def order_matches(request: HttpRequest, order_id: int) -> Any:
    """The matching view: ranked helpers with the explanation of each score (dispatchers)."""
    from wangge.accounts.permissions import has_perm_at

    from .perms import DISPATCH

    order = sel.access_order(request.user, order_id)
    if not has_perm_at(request.user, DISPATCH, order.region_path):
        raise NotFound("order")
    ranked, excluded = order_candidates(order)
    return {
        "ranked": [r.as_dict() for r in ranked[:50]],
        "excluded": [r.as_dict() for r in excluded[:50]],
    }


@router.post("/orders/{order_id}/transitions", response=OrderOut)
def transition_order(request: HttpRequest, order_id: int, payload: OrderTransitionIn) -> Any:
    order = sel.access_order(request.user, order_id)
    data = payload.dict(exclude={"action", "expected_version"}, exclude_none=True)
    return order_transition(
        actor=request.user,
        order=order,
        action=payload.action,
        expected_version=payload.expected_version,
        **data,
    )


@router.get("/me", response=PartyMeOut)
def my_summary(request: HttpRequest) -> Any:
    """The caller's own figures: points, time-bank minutes, open tasks and orders."""
    member = sel.my_member(request.user)
    volunteer = sel.my_volunteer(request.user)
    helper = member or volunteer
    account = sel.time_account_of(helper.person_id) if helper else None
    return {
        "member_id": member.pk if member else None,
        "volunteer_id": volunteer.pk if volunteer else None,
        "branch": member.branch.name if member else None,
        "points": sel.points_balance(member) if member else None,
        "minutes": account.balance if account else 0,
        "open_tasks": sel.orders_for_helper(request.user)
        .filter(state__in=OPEN_ORDER_STATES)
        .count(),
        "orders": sel.orders_requested_by(request.user).count(),
    }


@router.get("/volunteers", response=list[VolunteerOut])
def list_volunteers(request: HttpRequest) -> Any:
    """Volunteers registered in the caller's area (``party.view_volunteer``)."""
    return list(sel.volunteer_list_for_user(request.user)[:1000])


@router.post("/volunteers", response={201: VolunteerOut})
def register_volunteer(request: HttpRequest, payload: VolunteerIn) -> Any:
    """志愿者注册 for oneself, serving the community one lives in."""
    v = volunteer_register_self(
        actor=request.user,
        specialties=payload.specialties,
        availability=payload.availability,
        capacity=payload.capacity,
    )
    return Status(201, v)


@router.get("/me/statement", response=StatementOut)
def my_statement(request: HttpRequest, limit: int = 50) -> Any:
    """The caller's time-bank statement: entries newest first with the balance after each."""
    person = person_of_user(request.user)
    account = sel.time_account_of(person.pk) if person else None
    return {
        "balance": account.balance if account else 0,
        "entries": sel.time_statement(account, limit=max(1, min(limit, 500))),
    }


@router.post("/me/exchange", response={201: TransferOut})
def exchange_time(request: HttpRequest, payload: ExchangeIn) -> Any:
    """用时间兑换服务: spend the caller's saved minutes (refused when the balance is short)."""
    t = timebank_spend_self(actor=request.user, minutes=payload.minutes, reason=payload.reason)
    return Status(
        201,
        {
            "id": t.pk,
            "kind": t.kind,
            "minutes": t.minutes,
            "reason": t.reason,
            "order_id": t.order_id,
            "created_at": t.created_at,
            "balance": TimeAccount.objects.get(pk=t.debit_id).balance,
        },
    )
