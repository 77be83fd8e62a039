"""Party pages under /party/ (namespace ``party``)."""

from django.urls import path

from . import views

app_name = "party"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("order/", views.order_new, name="order_new"),
    path("me/", views.me, name="me"),
    path("me/exchange/", views.time_exchange, name="time_exchange"),
    path("volunteer/", views.volunteer_register, name="volunteer_register"),
    path("volunteers/", views.volunteer_list, name="volunteers"),
    path("volunteers/teams/", views.team_create, name="team_create"),
    path("volunteers/<int:pk>/team/", views.volunteer_team, name="volunteer_team"),
    path("orders/", views.order_list, name="orders"),
    path("orders/match/", views.order_match, name="order_match"),
    path("orders/<int:pk>/", views.order_detail, name="order_detail"),
    path("orders/<int:pk>/act/", views.order_act, name="order_act"),
    path("dual-reports/<int:pk>/act/", views.dual_report_act, name="dual_report_act"),
    path("activities/<int:pk>/checkin/", views.activity_checkin, name="activity_checkin"),
]
