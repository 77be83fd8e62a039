from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "wangge.accounts"
    label = "accounts"
    verbose_name = _("账号与权限")

    def ready(self) -> None:
        from .roles import sync_system_roles_after_migrate

        # Like Django's own create_permissions: keep the system roles in step with the code.
        post_migrate.connect(sync_system_roles_after_migrate, dispatch_uid="wangge_sync_roles")
