"""Registers pages under /registers/ (namespace ``registers``)."""

from django.urls import path

from . import field_views, privacy_views, views

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
