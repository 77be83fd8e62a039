from django.urls import include, path

from wangge.api.api import api
from wangge.cases.urls import public_urlpatterns as cases_public
from wangge.web.views import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/v1/", api.urls),
    path("open311/v2/", include("wangge.api.open311.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("cases/", include("wangge.cases.urls")),
    path("registers/", include("wangge.registers.urls")),
    path("analytics/", include("wangge.analytics.urls")),
    path("integrations/", include("wangge.api.urls")),
    path("party/", include("wangge.party.urls")),
    path("", include((cases_public, "public"))),
    path("", include("wangge.web.urls")),
]
