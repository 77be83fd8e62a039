"""``{% person_field_actions person %}``: the visit, PIPL export and erasure controls on a
person's page, each shown only to a user holding its permission on the person's area."""

from __future__ import annotations

from typing import Any

from django import template

from wangge.accounts.permissions import has_perm_at

register = template.Library()


@register.inclusion_tag("registers/partials/person_actions.html", takes_context=True)
def person_field_actions(context: dict[str, Any], person: Any) -> dict[str, Any]:
    user = context["request"].user
    path = person.region_path
    erased = bool(person.erased_at)
    return {
        "person": person,
        "erased": erased,
        "csrf_token": context.get("csrf_token"),
        "may_visit": not erased and has_perm_at(user, "registers.add_visit", path),
        # The export is unmasked: the service also requires the reveal permission.
        "may_export": not erased
        and has_perm_at(user, "registers.export_person", path)
        and has_perm_at(user, "registers.reveal_pii", path),
        "may_erase": not erased and has_perm_at(user, "registers.erase_person", path),
    }


@register.simple_tag(takes_context=True)
def holds_anywhere(context: dict[str, Any], perm: str) -> bool:
    """``{% holds_anywhere "registers.change_careplan" as ok %}``: a link only for those who may
    follow it."""
    from wangge.accounts.permissions import has_perm_anywhere

    return bool(has_perm_anywhere(context["request"].user, perm))
