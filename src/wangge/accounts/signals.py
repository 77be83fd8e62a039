"""Cache invalidation for the per-process grants cache (accounts/permissions.py).

Not domain logic: whatever writes a role assignment or a role's permissions (a service, a
migration's role sync, a test factory, the ORM in a shell), the users concerned get a new grants
stamp in the same transaction, so no process can answer a scope question from an old copy."""

from __future__ import annotations

from typing import Any

from .permissions import grants_changed, refresh_grants_stamp


def assignment_saved_or_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    grants_changed([instance.user_id])
    # The writer may go on using the same user object (``RoleAssignment(user=user)``): let it
    # carry the new stamp rather than find its old grants in the cache.
    refresh_grants_stamp(instance._state.fields_cache.get("user"))


def role_permissions_changed(
    sender: Any, instance: Any, action: str, reverse: bool, pk_set: Any, **kwargs: Any
) -> None:
    """``role.permissions`` (or ``permission.role_set``) changed: every holder of the roles."""
    from .models import RoleAssignment

    if action in ("post_add", "post_remove"):
        if not pk_set:
            return
        role_ids = set(pk_set) if reverse else {instance.pk}
    elif action == "pre_clear":
        role_ids = set(instance.role_set.values_list("pk", flat=True)) if reverse else {instance.pk}
    else:
        return
    grants_changed(
        RoleAssignment.objects.filter(role_id__in=role_ids).values_list("user_id", flat=True)
    )
