"""Writes of the cases app. Import services from here."""

from .attachments import attachment_add, attachment_add_public
from .escalation import EscalationReport, case_escalate_overdue, case_supervise
from .intake import IntakeResult, case_create, case_merge
from .phone import PhoneCodeSent, case_phone_code_check, case_phone_code_request
from .public import case_public_feedback
from .subtasks import subtask_transition
from .transitions import case_transition

__all__ = [
    "EscalationReport",
    "IntakeResult",
    "PhoneCodeSent",
    "attachment_add",
    "attachment_add_public",
    "case_create",
    "case_escalate_overdue",
    "case_merge",
    "case_phone_code_check",
    "case_phone_code_request",
    "case_public_feedback",
    "case_supervise",
    "case_transition",
    "subtask_transition",
]
