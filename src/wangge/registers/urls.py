"""Registers pages under /registers/ (namespace ``registers``)."""

from django.urls import path

from . import views

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
]
