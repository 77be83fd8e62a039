"""Staff case pages under /cases/ (namespace ``cases``) and the resident pages
(``public_urlpatterns``: /report/ and /track/<code>, namespace ``public``)."""

from django.urls import path, re_path

from . import views

app_name = "cases"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("map.json", views.queue_map, name="queue_map"),
    path("my/", views.my_tasks, name="my"),
    path("new/", views.worker_report, name="new"),
    path("work-orders/", views.work_orders, name="work_orders"),
    path("subtasks/<int:pk>/act/", views.subtask_act, name="subtask_act"),
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/read/", views.notification_read, name="notifications_read"),
    path("<int:pk>/", views.case_detail, name="detail"),
    path("<int:pk>/act/", views.case_act, name="act"),
    path("<int:pk>/supervise/", views.case_supervise_view, name="supervise"),
    path("<int:pk>/photos/<int:attachment>/", views.case_photo, name="photo"),
]

# Tracking codes are 6 digits + 6 letters/digits (cases.services.intake.new_tracking_code); the
# page answers with or without a trailing slash, so `/track/<code>` as printed works.
public_urlpatterns = [
    path("report/", views.report, name="report"),
    path("report/grids.geojson", views.report_grids, name="report_grids"),
    path("report/phone-code/", views.report_phone_code, name="report_phone_code"),
    path("track/", views.track_lookup, name="track_lookup"),
    re_path(r"^track/(?P<code>[0-9A-Za-z]{4,16})/?$", views.track, name="track"),
    re_path(
        r"^track/(?P<code>[0-9A-Za-z]{4,16})/feedback/$",
        views.track_feedback,
        name="track_feedback",
    ),
]
