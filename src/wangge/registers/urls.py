"""Registers pages under /registers/ (namespace ``registers``)."""

from django.urls import path

from . import field_views, privacy_views, record_views, views

app_name = "registers"

urlpatterns = [
    path("people/", views.people, name="people"),
    path("people/<int:pk>/", views.person_detail, name="person"),
    path("people/<int:pk>/reveal/", views.person_reveal_view, name="person_reveal"),
    path("imports/", views.imports, name="imports"),
    path("imports/<int:pk>/", views.import_job, name="import_job"),
    path("templates/<str:kind>.xlsx", views.import_template, name="template"),
    path("export/<str:kind>.xlsx", views.export, name="export"),
    path("grids/<str:code>/", views.profile, name="profile"),
    path("visits/due/", views.due_visits, name="due_visits"),
    path("map/", views.people_map, name="map"),
    path("map/layers.json", views.map_layers, name="map_layers"),
    # Field work and PIPL pages (field_views.py, privacy_views.py).
    path("visits/new/", field_views.visit_new, name="visit_new"),
    path("careplans/", field_views.careplans, name="careplans"),
    path(
        "people/<int:pk>/subject-export/",
        privacy_views.person_subject_export_view,
        name="person_subject_export",
    ),
    path("people/<int:pk>/erase/", privacy_views.person_erase_view, name="person_erase"),
]

# Create, edit, list and detail pages of people, households, buildings, houses, organisations
# and components (record_views).
urlpatterns += [
    path("people/new/", record_views.person_new, name="person_new"),
    path("people/<int:pk>/edit/", record_views.person_edit, name="person_edit"),
    path("households/", record_views.households, name="households"),
    path("households/new/", record_views.household_new, name="household_new"),
    path("households/<int:pk>/", record_views.household_detail, name="household"),
    path("households/<int:pk>/edit/", record_views.household_edit, name="household_edit"),
    path("buildings/", record_views.buildings, name="buildings"),
    path("buildings/new/", record_views.building_new, name="building_new"),
    path("buildings/<int:pk>/", record_views.building_detail, name="building"),
    path("buildings/<int:pk>/edit/", record_views.building_edit, name="building_edit"),
    path("houses/", record_views.houses, name="houses"),
    path("houses/new/", record_views.house_new, name="house_new"),
    path("houses/<int:pk>/", record_views.house_detail, name="house"),
    path("houses/<int:pk>/edit/", record_views.house_edit, name="house_edit"),
    path("houses/<int:pk>/tenancies/", record_views.tenancy_add_view, name="tenancy_add"),
    path(
        "houses/<int:pk>/tenancies/<int:tenancy_pk>/end/",
        record_views.tenancy_end_view,
        name="tenancy_end",
    ),
    path("organisations/", record_views.organisations, name="organisations"),
    path("organisations/new/", record_views.organisation_new, name="organisation_new"),
    path("organisations/<int:pk>/", record_views.organisation_detail, name="organisation"),
    path("organisations/<int:pk>/edit/", record_views.organisation_edit, name="organisation_edit"),
    path("components/", record_views.components, name="components"),
    path("components/new/", record_views.component_new, name="component_new"),
    path("components/<int:pk>/", record_views.component_detail, name="component"),
    path("components/<int:pk>/edit/", record_views.component_edit, name="component_edit"),
    path("components/<int:pk>/status/", record_views.component_status, name="component_status"),
]
