from django.urls import include, path

from wangge.api.api import api
from wangge.web.views import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("wangge.web.urls")),
]
