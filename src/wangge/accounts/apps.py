from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "wangge.accounts"
    label = "accounts"
    verbose_name = _("账号与权限")

    def ready(self) -> None:
        from . import signals
        from .models import Role, RoleAssignment
        from .roles import sync_system_roles_after_migrate

        # Like Django's own create_permissions: keep the system roles in step with the code.
        post_migrate.connect(sync_system_roles_after_migrate, dispatch_uid="wangge_sync_roles")
        # Grants cache invalidation (ADR 0025): any write of an assignment or a role's
        # permissions gives the users concerned a new grants stamp.
        for signal in (post_save, post_delete):
            signal.connect(
                signals.assignment_saved_or_deleted,
                sender=RoleAssignment,
                dispatch_uid=f"wangge_grants_{signal is post_save}",
            )
        m2m_changed.connect(
            signals.role_permissions_changed,
            sender=Role.permissions.through,
            dispatch_uid="wangge_grants_role_permissions",
        )
