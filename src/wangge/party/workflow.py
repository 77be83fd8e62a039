"""The service-order workflow as an explicit table (群众点单 → 支部派单 → 党员接单 → 群众评单).

``services.orders.order_transition`` is the only code that applies it; the tests enumerate every
legal and illegal (action, state) pair from it."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from .choices import OrderState as S


class Who:
    DISPATCHER = "dispatcher"  # holds party.dispatch_serviceorder over the order's region
    HELPER = "helper"  # the assigned member's / volunteer's own account
    REQUESTER = "requester"  # who ordered, or staff posting/dispatching in the area


@dataclass(frozen=True)
class Transition:
    action: str
    sources: tuple[str, ...]
    target: str
    who: tuple[str, ...]
    requires: tuple[str, ...]
    label: object


TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in [
        Transition("assign", (S.POSTED,), S.ASSIGNED, (Who.DISPATCHER,), ("helper",), _("派单")),
        Transition(
            "reassign",
            (S.ASSIGNED, S.ACCEPTED),
            S.ASSIGNED,
            (Who.DISPATCHER,),
            ("helper", "reason"),
            _("改派"),
        ),
        Transition("decline", (S.ASSIGNED,), S.POSTED, (Who.HELPER,), ("reason",), _("拒单")),
        Transition("accept", (S.ASSIGNED,), S.ACCEPTED, (Who.HELPER,), (), _("接单")),
        Transition("check_in", (S.ACCEPTED,), S.IN_SERVICE, (Who.HELPER,), (), _("到场签到")),
        Transition(
            "check_out", (S.IN_SERVICE,), S.COMPLETED, (Who.HELPER,), ("result",), _("服务完成")
        ),
        Transition("rate", (S.COMPLETED,), S.RATED, (Who.REQUESTER,), ("score",), _("评单")),
        Transition(
            "cancel",
            (S.POSTED, S.ASSIGNED, S.ACCEPTED),
            S.CANCELLED,
            (Who.REQUESTER, Who.DISPATCHER),
            ("reason",),
            _("取消"),
        ),
    ]
}

# Orders waiting on someone: how long the wait may last before it escalates (hours).
WAIT_HOURS: dict[str, int] = {S.POSTED: 4, S.ASSIGNED: 2}
MAX_ESCALATION = 3  # branch → community → street → district

# Timeline labels (the transitions' own labels, plus the entries no transition writes).
EVENT_LABELS: dict[str, object] = {
    "post": _("点单"),
    "escalate": _("超时催办"),
    **{a: t.label for a, t in TRANSITIONS.items()},
}
