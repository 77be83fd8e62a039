"""System roles of DESIGN §1 as permission sets. Later apps add their permissions here."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

VIEW_GEO = "geo.view_region"
CHANGE_GEO = "geo.change_region"
IMPORT_GEO = "geo.import_region"
VIEW_USERS = "accounts.view_user"
MANAGE_USERS = "accounts.manage_users"
VIEW_AUDIT = "core.view_auditrecord"

STAFF_BASE = [VIEW_GEO]

# Cases (issue 3). Department staff get no area-wide view: they see the cases and sub-tasks of
# the departments they are members of (cases.selectors.case_list_for_user).
VIEW_CASE = "cases.view_case"
ADD_CASE = "cases.add_case"
TRANSITION_CASE = "cases.transition_case"
DISPATCH_CASE = "cases.dispatch_case"
APPROVE_CASE = "cases.approve_case"
SUPERVISE_CASE = "cases.supervise_case"
CHANGE_MATTERTYPE = "cases.change_mattertype"
CASE_WORKER = [VIEW_CASE, ADD_CASE, TRANSITION_CASE]
CASE_DISPATCHER = [*CASE_WORKER, DISPATCH_CASE, APPROVE_CASE, SUPERVISE_CASE]
# Open interfaces (issue 7): webhook subscriptions and their delivery log, per area.
MANAGE_WEBHOOKS = "api.manage_webhooks"

# Registers (issue 4). Viewing shows identifiers masked; reveal_pii unmasks one record at a time
# with a reason (audited); view_sensitive shows 特殊人群 individuals (others see counts only).
REG_VIEW = [
    "registers.view_person",
    "registers.view_household",
    "registers.view_building",
    "registers.view_house",
    "registers.view_organisation",
    "registers.view_component",
    "registers.view_visit",
    "registers.view_careplan",
]
REG_EDIT = [
    "registers.add_person",
    "registers.change_person",
    "registers.change_household",
    "registers.change_building",
    "registers.change_house",
    "registers.change_organisation",
    "registers.change_component",
    "registers.add_visit",
]
REVEAL_PII = "registers.reveal_pii"
VIEW_SENSITIVE = "registers.view_sensitive"
EXPORT_PERSON = "registers.export_person"
ERASE_PERSON = "registers.erase_person"
IMPORT_REGISTERS = "registers.import_registers"
CHANGE_CAREPLAN = "registers.change_careplan"
REG_MANAGER = [
    *REG_VIEW,
    *REG_EDIT,
    REVEAL_PII,
    VIEW_SENSITIVE,
    EXPORT_PERSON,
    IMPORT_REGISTERS,
    CHANGE_CAREPLAN,
]
# Command centre and assessment (issue 6). Department staff see their own departments' scores
# through membership (analytics.selectors.result_list_for_user), not an area grant.
VIEW_DASHBOARD = "analytics.view_dashboard"
VIEW_ASSESSMENT = "analytics.view_assessment"
RUN_ASSESSMENT = "analytics.run_assessment"
CHANGE_SCHEME = "analytics.change_assessmentscheme"
VIEW_REPORT = "analytics.view_report"
ANALYTICS_VIEWER = [VIEW_DASHBOARD, VIEW_ASSESSMENT, VIEW_REPORT]
ANALYTICS_MANAGER = [*ANALYTICS_VIEWER, RUN_ASSESSMENT, CHANGE_SCHEME]

# Party building and service (issue 5). Member details are scoped by branch area: a grant on a
# grid sees that grid branch's members (and members 双报到'd to communities in the area).
PARTY_VIEW = [
    "party.view_partyorg",
    "party.view_partymember",
    "party.view_volunteer",
    "party.view_serviceorder",
    "party.view_activity",
    "party.view_timeaccount",
]
PARTY_MANAGER = [
    *PARTY_VIEW,
    "party.change_partyorg",
    "party.change_partymember",
    "party.change_volunteer",
    "party.approve_dualreport",
    "party.add_serviceorder",
    "party.dispatch_serviceorder",
    "party.change_activity",
    "party.adjust_points",
    "party.exchange_time",
]
# Grid workers post service orders for residents who cannot (群众点单 on their behalf).
PARTY_GRID = ["party.view_partyorg", "party.view_serviceorder", "party.add_serviceorder"]

SYSTEM_ROLES: dict[str, dict[str, Any]] = {
    "resident": {"name": _("居民"), "permissions": []},
    "grid_worker": {
        "name": _("网格员"),
        "permissions": [
            *STAFF_BASE,
            *CASE_WORKER,
            *REG_VIEW,
            *REG_EDIT,
            REVEAL_PII,
            *PARTY_GRID,
        ],
    },
    "micro_grid_worker": {
        "name": _("微网格员(楼栋长)"),
        "permissions": [
            *STAFF_BASE,
            VIEW_CASE,
            ADD_CASE,
            "registers.view_person",
            "registers.view_household",
            "registers.view_building",
            "registers.view_house",
            "registers.view_visit",
            "registers.add_visit",
        ],
    },
    "community_secretary": {
        "name": _("网格长/社区书记"),
        "permissions": [
            *STAFF_BASE,
            VIEW_USERS,
            *CASE_DISPATCHER,
            *REG_MANAGER,
            *ANALYTICS_VIEWER,
            *PARTY_MANAGER,
        ],
    },
    "street_dispatcher": {
        "name": _("街道指挥中心调度员"),
        "permissions": [
            *STAFF_BASE,
            VIEW_USERS,
            VIEW_AUDIT,
            *CASE_DISPATCHER,
            *REG_MANAGER,
            *ANALYTICS_VIEWER,
            *PARTY_MANAGER,
        ],
    },
    "district_commander": {
        "name": _("区县指挥中心"),
        "permissions": [
            *STAFF_BASE,
            CHANGE_GEO,
            VIEW_USERS,
            VIEW_AUDIT,
            *CASE_DISPATCHER,
            CHANGE_MATTERTYPE,
            *REG_VIEW,
            VIEW_SENSITIVE,
            EXPORT_PERSON,
            *ANALYTICS_MANAGER,
            *PARTY_VIEW,
        ],
    },
    "department_staff": {
        "name": _("职能部门处置人员"),
        "permissions": [
            *STAFF_BASE,
            TRANSITION_CASE,
            "registers.view_component",
            "registers.change_component",
        ],
    },
    "party_member": {"name": _("党员/志愿者"), "permissions": []},
    "sysadmin": {
        "name": _("系统管理员"),
        "permissions": [
            *STAFF_BASE,
            CHANGE_GEO,
            IMPORT_GEO,
            VIEW_USERS,
            MANAGE_USERS,
            CHANGE_MATTERTYPE,
            # Granting a role needs its permissions (no escalation), so admins hold these too.
            *CASE_DISPATCHER,
            *REG_MANAGER,
            ERASE_PERSON,
            *ANALYTICS_MANAGER,
            MANAGE_WEBHOOKS,
            *PARTY_MANAGER,
        ],
    },
    "auditor": {
        "name": _("审计员"),
        "permissions": [
            *STAFF_BASE,
            VIEW_AUDIT,
            VIEW_USERS,
            VIEW_CASE,
            *REG_VIEW,
            *ANALYTICS_VIEWER,
            *PARTY_VIEW,
        ],
    },
}


def sync_system_roles() -> None:
    from django.contrib.auth.models import Permission

    from .models import Role

    for code, spec in SYSTEM_ROLES.items():
        role, _created = Role.objects.update_or_create(
            code=code, defaults={"name": str(spec["name"]), "is_system": True}
        )
        perms = []
        for dotted in spec["permissions"]:
            app_label, codename = dotted.split(".", 1)
            perm = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if perm is not None:
                perms.append(perm)
        role.permissions.set(perms)


def sync_system_roles_after_migrate(sender: Any, **kwargs: Any) -> None:
    from django.apps import apps

    # Run once, after the last app's permissions exist.
    with_models = [a for a in apps.get_app_configs() if a.models_module is not None]
    if sender is not with_models[-1]:
        return
    sync_system_roles()
