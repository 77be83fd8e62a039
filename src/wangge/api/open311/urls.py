"""``/open311/v2/`` (namespace ``open311``): GeoReport v2, each path in ``.xml`` and ``.json``."""

from django.urls import re_path

from . import views

app_name = "open311"

FMT = r"\.(?P<fmt>xml|json)$"

urlpatterns = [
    re_path(r"^discovery" + FMT, views.discovery, name="discovery"),
    re_path(r"^services" + FMT, views.services, name="services"),
    re_path(r"^services/(?P<service_code>[^/]{1,32})" + FMT, views.service_detail, name="service"),
    re_path(r"^requests" + FMT, views.requests_view, name="requests"),
    re_path(
        r"^requests/(?P<service_request_id>[^/]{1,40})" + FMT, views.request_detail, name="request"
    ),
    re_path(r"^tokens/(?P<token>[^/]{1,64})" + FMT, views.token_detail, name="token"),
]
