"""Create, edit, list and detail pages of the registers (人、地、物、组织): people, households,
buildings, houses with their tenants, organisations and components.

Each page: the permission held somewhere (else 403), the object loaded through its access_*
helper and the change permission checked on its area (else 404), one service call; a domain
error becomes a form error (in the user's language) and nothing is saved."""

from .people import (
    household_detail,
    household_edit,
    household_new,
    households,
    person_edit,
    person_new,
)
from .places import (
    building_detail,
    building_edit,
    building_new,
    buildings,
    house_detail,
    house_edit,
    house_new,
    houses,
    tenancy_add_view,
    tenancy_end_view,
)
from .units import (
    component_detail,
    component_edit,
    component_new,
    component_status,
    components,
    organisation_detail,
    organisation_edit,
    organisation_new,
    organisations,
)

__all__ = [
    "building_detail",
    "building_edit",
    "building_new",
    "buildings",
    "component_detail",
    "component_edit",
    "component_new",
    "component_status",
    "components",
    "house_detail",
    "house_edit",
    "house_new",
    "household_detail",
    "household_edit",
    "household_new",
    "households",
    "houses",
    "organisation_detail",
    "organisation_edit",
    "organisation_new",
    "organisations",
    "person_edit",
    "person_new",
    "tenancy_add_view",
    "tenancy_end_view",
]
