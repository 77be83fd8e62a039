"""The case workflow as an explicit table: action → (source states, target, permission, required
fields). ``services.transitions.case_transition`` is the only code that applies it; the table is
also what the tests enumerate and what docs/workflow.md draws."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from .choices import CaseState as S

VIEW = "cases.view_case"
TRANSITION = "cases.transition_case"
DISPATCH = "cases.dispatch_case"
APPROVE = "cases.approve_case"
SUPERVISE = "cases.supervise_case"


class Who:
    """Who may take an action, beyond holding ``perm`` in the case's area."""

    AREA = "area"  # holds the permission on a region covering the case
    HANDLER = "handler"  # the assignee / a member of the assigned department, or a dispatcher
    REPORTER = "reporter"  # the reporter themselves, or staff holding the permission in area


@dataclass(frozen=True)
class Transition:
    action: str
    sources: tuple[str, ...]
    target: str | None  # None: the state does not change
    perm: str
    who: str
    requires: tuple[str, ...]
    label: object
    public_text: object = ""


ACTIVE_WORK = (S.DISPATCHED, S.IN_PROGRESS)

TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in [
        Transition(
            "accept",
            (S.REPORTED,),
            S.ACCEPTED,
            DISPATCH,
            Who.AREA,
            (),
            _("受理立案"),
            _("您反映的问题已受理。"),
        ),
        Transition(
            "reject",
            (S.REPORTED,),
            S.REJECTED,
            DISPATCH,
            Who.AREA,
            ("reason",),
            _("不予立案"),
            _("经核实，该问题不予立案。"),
        ),
        Transition(
            "merge",
            (S.REPORTED, S.ACCEPTED),
            S.MERGED,
            DISPATCH,
            Who.AREA,
            ("duplicate_of",),
            _("合并重复件"),
            _("该问题已与相同问题合并办理。"),
        ),
        Transition(
            "dispatch",
            (S.ACCEPTED,),
            S.DISPATCHED,
            DISPATCH,
            Who.AREA,
            (),
            _("派遣"),
            _("问题已派给处置人员。"),
        ),
        Transition(
            "reassign",
            ACTIVE_WORK,
            S.DISPATCHED,
            DISPATCH,
            Who.AREA,
            ("reason",),
            _("改派"),
            _("问题已改派处置人员。"),
        ),
        Transition(
            "whistle",
            (S.ACCEPTED, S.DISPATCHED, S.IN_PROGRESS),
            S.IN_PROGRESS,
            DISPATCH,
            Who.AREA,
            ("lead",),
            _("吹哨报到"),
            _("已召集相关部门联合处置。"),
        ),
        Transition(
            "reclassify",
            (S.ACCEPTED, S.DISPATCHED, S.IN_PROGRESS),
            None,
            DISPATCH,
            Who.AREA,
            ("matter_type", "reason"),
            _("更改事项类型"),
            _("问题类型已调整，按新类型的时限办理。"),
        ),
        Transition(
            "claim",
            (S.DISPATCHED,),
            S.IN_PROGRESS,
            TRANSITION,
            Who.HANDLER,
            (),
            _("签收"),
            _("处置人员已接单。"),
        ),
        Transition(
            "return", ACTIVE_WORK, S.ACCEPTED, TRANSITION, Who.HANDLER, ("reason",), _("回退"), ""
        ),
        Transition(
            "handle",
            (S.IN_PROGRESS,),
            S.HANDLED,
            TRANSITION,
            Who.HANDLER,
            ("result",),
            _("处置反馈"),
            _("问题已处置，等待核查。"),
        ),
        Transition(
            "verify",
            (S.HANDLED,),
            S.VERIFIED,
            TRANSITION,
            Who.AREA,
            (),
            _("核查通过"),
            _("处置结果已核查。"),
        ),
        Transition(
            "verify_fail",
            (S.HANDLED,),
            S.IN_PROGRESS,
            TRANSITION,
            Who.AREA,
            ("reason",),
            _("核查不通过(返工)"),
            _("核查未通过，正在重新处置。"),
        ),
        Transition(
            "close",
            (S.VERIFIED,),
            S.CLOSED,
            DISPATCH,
            Who.AREA,
            (),
            _("结案"),
            _("问题已办结，欢迎您评价。"),
        ),
        Transition(
            "rate",
            (S.CLOSED,),
            S.RATED,
            TRANSITION,
            Who.REPORTER,
            ("score",),
            _("评价"),
            _("感谢您的评价。"),
        ),
        Transition(
            "reopen",
            (S.CLOSED, S.RATED),
            S.IN_PROGRESS,
            DISPATCH,
            Who.REPORTER,
            ("reason",),
            _("重新办理"),
            _("问题已重新办理。"),
        ),
        Transition(
            "request_suspend",
            ACTIVE_WORK,
            None,
            TRANSITION,
            Who.HANDLER,
            ("reason",),
            _("申请挂账"),
            "",
        ),
        Transition(
            "request_extend",
            ACTIVE_WORK,
            None,
            TRANSITION,
            Who.HANDLER,
            ("reason", "extra_limit"),
            _("申请延期"),
            "",
        ),
        Transition(
            "approve_suspend",
            ACTIVE_WORK,
            S.SUSPENDED,
            APPROVE,
            Who.AREA,
            (),
            _("批准挂账"),
            _("问题暂时挂账，条件具备后继续办理。"),
        ),
        Transition(
            "approve_extend",
            ACTIVE_WORK,
            None,
            APPROVE,
            Who.AREA,
            (),
            _("批准延期"),
            _("办理时限已依规延长。"),
        ),
        Transition(
            "deny_request", ACTIVE_WORK, None, APPROVE, Who.AREA, ("reason",), _("驳回申请"), ""
        ),
        Transition(
            "resume",
            (S.SUSPENDED,),
            S.IN_PROGRESS,
            APPROVE,
            Who.AREA,
            (),
            _("恢复办理"),
            _("问题已恢复办理。"),
        ),
        Transition(
            "cancel",
            (S.REPORTED, S.ACCEPTED, S.DISPATCHED, S.IN_PROGRESS, S.SUSPENDED),
            S.CANCELLED,
            DISPATCH,
            Who.AREA,
            ("reason",),
            _("作废"),
            _("该问题已作废。"),
        ),
    ]
}

ACTIONS = list(TRANSITIONS)
STATES = list(S.values)


def target_state(action: str, state: str) -> str:
    t = TRANSITIONS[action]
    return t.target or state


def legal_pairs() -> list[tuple[str, str]]:
    return [(s, a) for a, t in TRANSITIONS.items() for s in t.sources]


def illegal_pairs() -> list[tuple[str, str]]:
    legal = set(legal_pairs())
    return [(s, a) for s in STATES for a in ACTIONS if (s, a) not in legal]


def available_actions(state: str) -> list[str]:
    return [a for a, t in TRANSITIONS.items() if state in t.sources]
