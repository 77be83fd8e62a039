"""What residents without an account may do with their tracking code and phone number."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from wangge.core.exceptions import NotFound, ValidationError

from ..models import Case
from .transitions import case_transition


@transaction.atomic
def case_public_feedback(
    *, code: str, phone: str, score: int, reason: str = "", reopen: bool = False
) -> Case:
    """A resident without an account rates a closed case by its tracking code, proving who they
    are with the phone number given at reporting; an unsatisfied resident may ask to reopen
    (score ≤ 2 and a reason)."""
    from ..selectors import NOT_FOUND

    case = Case.objects.filter(tracking_code=(code or "").strip().upper()).first()
    phone = (phone or "").strip()
    if case is None or not phone or case.reporter_phone != phone:
        raise NotFound(NOT_FOUND)
    case = case_transition(
        actor=None,
        case=case,
        action="rate",
        expected_version=case.version,
        score=score,
        reason=reason,
    )
    if reopen:
        if case.rating is None or case.rating > 2 or not reason.strip():
            raise ValidationError(
                _("不满意（1–2分）并说明理由后才能申请重新办理。"), errors={"reopen": ["invalid"]}
            )
        case = case_transition(
            actor=None,
            case=case,
            action="reopen",
            expected_version=case.version,
            reason=_("居民不满意：%(r)s") % {"r": reason.strip()},
        )
    return case
