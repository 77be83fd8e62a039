"""Party services (writes). Import from here."""

from .activities import activity_check_in, activity_close, activity_plan
from .matching import explain_pair, order_candidates, service_match_batch
from .members import (
    central_household_set,
    dual_report_request,
    dual_report_transition,
    helper_update_profile,
    member_create,
    volunteer_register,
    volunteer_team_create,
)
from .orders import (
    branch_for_region,
    order_transition,
    service_order_create,
    service_order_escalate_due,
)
from .orgs import (
    party_org_add_member_unit,
    party_org_attach_member,
    party_org_create,
    party_org_dissolve,
    party_org_expire_due,
    party_org_set_secretary,
)
from .points import points_adjust, points_award
from .selfservice import (
    person_of_user,
    timebank_spend_self,
    volunteer_register_self,
    volunteer_team_add,
)
from .timebank import (
    account_for_org,
    account_for_person,
    timebank_check,
    timebank_exchange,
    timebank_transfer,
)

__all__ = [
    "account_for_org",
    "account_for_person",
    "activity_check_in",
    "activity_close",
    "activity_plan",
    "branch_for_region",
    "central_household_set",
    "dual_report_request",
    "dual_report_transition",
    "explain_pair",
    "helper_update_profile",
    "member_create",
    "order_candidates",
    "order_transition",
    "party_org_add_member_unit",
    "party_org_attach_member",
    "party_org_create",
    "party_org_dissolve",
    "party_org_expire_due",
    "party_org_set_secretary",
    "person_of_user",
    "points_adjust",
    "points_award",
    "service_match_batch",
    "service_order_create",
    "service_order_escalate_due",
    "timebank_check",
    "timebank_exchange",
    "timebank_spend_self",
    "timebank_transfer",
    "volunteer_register",
    "volunteer_register_self",
    "volunteer_team_add",
    "volunteer_team_create",
]
