"""Administrator pages of the open interfaces (namespace ``integrations``), mounted at
``/integrations/``."""

from django.urls import path

from . import views

app_name = "integrations"

urlpatterns = [
    path("webhooks/", views.webhook_list, name="webhooks"),
    path("webhooks/<int:pk>/", views.webhook_detail, name="webhook"),
    path("webhooks/<int:pk>/active/", views.webhook_active, name="webhook_active"),
    path("deliveries/<int:pk>/replay/", views.delivery_replay_view, name="delivery_replay"),
]
