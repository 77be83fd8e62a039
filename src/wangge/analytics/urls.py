"""Command centre, hotspots, assessments and reports under /analytics/ (namespace ``analytics``)."""

from django.urls import path

from . import views

app_name = "analytics"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("data.json", views.dashboard_data, name="data"),
    path("map.geojson", views.dashboard_map, name="map"),
    path("hotspots.json", views.hotspots, name="hotspots"),
    path("assessments/", views.assessments, name="assessments"),
    path("assessments/run/", views.assessment_run, name="assessment_run"),
    path("assessments/runs/<int:pk>/", views.run_detail, name="run"),
    path("reports/new/", views.report_create, name="report_create"),
    path("reports/<int:pk>/download/", views.report_download, name="report_download"),
]
