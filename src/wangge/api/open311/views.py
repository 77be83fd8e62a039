"""GeoReport v2 endpoints under ``/open311/v2/`` (plain Django views: the spec's XML and exact
shapes are not a ninja API). Every view takes the format from the URL suffix (``.xml``/``.json``)
and answers errors as the spec's ``errors`` list."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse, QueryDict
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from wangge.core.exceptions import WanggeError

from .keys import client_authenticate, client_over_rate
from .render import error, respond, w3c
from .selectors import (
    RequestFilters,
    public_matter_type,
    public_request,
    request_get,
    request_list,
    service_definition,
    service_list,
    service_notice,
    token_lookup,
)
from .services import Open311Submission, parse_attributes, request_create

SPEC_URL = "http://wiki.open311.org/GeoReport_v2"
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
MAX_RANGE = timedelta(days=90)
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class Open311Error(Exception):
    def __init__(self, status: int, description: str):
        super().__init__(description)
        self.status = status
        self.description = description


View = Callable[..., HttpResponse]


def open311_view(*methods: str) -> Callable[[View], View]:
    """The format from the URL, the jurisdiction check, and errors as the spec's list."""

    def decorator(view: View) -> View:
        @csrf_exempt
        @require_http_methods(list(methods))
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, fmt: str, **kwargs: Any) -> HttpResponse:
            try:
                _check_jurisdiction(request)
                return view(request, *args, fmt=fmt, **kwargs)
            except Open311Error as exc:
                return error(fmt, exc.status, exc.description)
            except WanggeError as exc:
                status = {404: 404, 403: 403}.get(exc.status, 400)
                return error(fmt, status, exc.message)
            except (RequestDataTooBig, TooManyFieldsSent):
                return error(fmt, 413, _("请求内容过大。"))
            except SuspiciousOperation:
                return error(fmt, 400, _("请求格式不正确。"))

        return wrapped

    return decorator


def _param(request: HttpRequest, name: str) -> str:
    """A parameter from the body (POST) or the query string; all strings."""
    if request.method == "POST" and name in request.POST:
        return str(request.POST.get(name, ""))
    return str(request.GET.get(name, ""))


def _check_jurisdiction(request: HttpRequest) -> None:
    given = request.GET.get("jurisdiction_id", "")
    if request.method == "POST" and not given:
        content_type = request.content_type or ""
        given = request.POST.get("jurisdiction_id", "") if content_type in FORM_TYPES else ""
    expected = getattr(settings, "OPEN311_JURISDICTION_ID", "")
    if given and given != expected:
        raise Open311Error(404, _("jurisdiction_id“%(j)s”不存在。") % {"j": given[:64]})


def _endpoint_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("open311:discovery", kwargs={"fmt": "json"}))[
        : -len("discovery.json")
    ].rstrip("/")


@open311_view("GET")
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    changeset = datetime(2026, 1, 1, tzinfo=UTC)
    body = {
        "changeset": w3c(changeset),
        "contact": getattr(settings, "OPEN311_CONTACT", ""),
        "key_service": getattr(settings, "OPEN311_KEY_SERVICE", ""),
        "endpoints": [
            {
                "specification": SPEC_URL,
                "url": _endpoint_url(request),
                "changeset": w3c(changeset),
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return respond(fmt, "discovery", body)


@open311_view("GET")
def services(request: HttpRequest, fmt: str) -> HttpResponse:
    return respond(fmt, "services", service_list())


@open311_view("GET")
def service_detail(request: HttpRequest, service_code: str, fmt: str) -> HttpResponse:
    mt = public_matter_type(service_code)
    if mt is None:
        raise Open311Error(404, _("服务“%(c)s”不存在。") % {"c": service_code[:16]})
    return respond(fmt, "service_definition", service_definition(mt))


@open311_view("GET", "POST")
def requests_view(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return _create(request, fmt)
    return _list(request, fmt)


def _create(request: HttpRequest, fmt: str) -> HttpResponse:
    content_type = request.content_type or ""
    if content_type not in FORM_TYPES:
        raise Open311Error(
            400,
            _("请求体须为application/x-www-form-urlencoded或multipart/form-data（收到%(t)s）。")
            % {"t": content_type[:60] or "-"},
        )
    form: QueryDict = request.POST  # may raise RequestDataTooBig / TooManyFieldsSent
    client = client_authenticate(_param(request, "api_key"))
    if client is None:
        raise Open311Error(403, _("api_key无效或已停用，无法提交服务请求。"))
    if client_over_rate(client):
        raise Open311Error(429, _("提交过于频繁，请稍后再试。"))
    media = request.FILES.get("media")
    content = None
    if media is not None:
        content = media.read(int(getattr(settings, "CASE_ATTACHMENT_MAX_BYTES", 10 << 20)) + 1)
    submission = Open311Submission(
        service_code=_param(request, "service_code"),
        lat=_param(request, "lat"),
        long=_param(request, "long"),
        address_string=_param(request, "address_string"),
        address_id=_param(request, "address_id"),
        email=_param(request, "email"),
        device_id=_param(request, "device_id"),
        account_id=_param(request, "account_id"),
        first_name=_param(request, "first_name"),
        last_name=_param(request, "last_name"),
        phone=_param(request, "phone"),
        description=_param(request, "description"),
        media_url=_param(request, "media_url"),
        attributes=parse_attributes(list(form.lists())),
        media=content,
    )
    link = request_create(client=client, submission=submission)
    notice = service_notice(link.case.rules or {})
    body = [
        {
            "service_request_id": link.case.tracking_code,
            "token": link.token,
            "service_notice": notice,
            "account_id": link.account_id,
        }
    ]
    return respond(fmt, "service_requests", body, status=201)


def _when(value: str, name: str) -> datetime | None:
    if not value:
        return None
    try:
        moment = parse_datetime(value)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise Open311Error(
            400, _("%(n)s须为带时区的W3C时间，例如2026-05-01T00:00:00Z。") % {"n": name}
        )
    return moment


def _int(value: str, name: str, default: int, low: int, high: int) -> int:
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        number = low - 1
    if not low <= number <= high:
        raise Open311Error(
            400, _("%(n)s须为%(a)d到%(b)d之间的整数。") % {"n": name, "a": low, "b": high}
        )
    return number


def _csv(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _list(request: HttpRequest, fmt: str) -> HttpResponse:
    page = _int(request.GET.get("page", ""), "page", 1, 1, 100_000)
    size = _int(request.GET.get("page_size", ""), "page_size", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    ids = _csv(request.GET.get("service_request_id", ""))
    if ids:
        filters = RequestFilters(ids=ids[:MAX_PAGE_SIZE])
    else:
        statuses = _csv(request.GET.get("status", "").lower())
        if any(s not in ("open", "closed") for s in statuses):
            raise Open311Error(400, _("status只能是open或closed。"))
        start = _when(request.GET.get("start_date", ""), "start_date")
        end = _when(request.GET.get("end_date", ""), "end_date")
        if start is not None and end is None:
            end = start + MAX_RANGE
        if start is None:
            start = (end or datetime.now(UTC)) - MAX_RANGE
        if end is not None and end < start:
            raise Open311Error(400, _("end_date不能早于start_date。"))
        if end is not None and end - start > MAX_RANGE:
            raise Open311Error(400, _("start_date与end_date的间隔不能超过90天。"))
        filters = RequestFilters(
            service_codes=_csv(request.GET.get("service_code", "")),
            start=start,
            end=end,
            statuses=statuses,
        )
    qs = request_list(filters)
    rows = [public_request(c) for c in qs[(page - 1) * size : page * size]]
    return respond(fmt, "service_requests", rows)


@open311_view("GET")
def request_detail(request: HttpRequest, service_request_id: str, fmt: str) -> HttpResponse:
    case = request_get(service_request_id)
    if case is None:
        raise Open311Error(404, _("服务请求“%(i)s”不存在。") % {"i": service_request_id[:32]})
    return respond(fmt, "service_requests", [public_request(case)])


@open311_view("GET")
def token_detail(request: HttpRequest, token: str, fmt: str) -> HttpResponse:
    link = token_lookup(token)
    if link is None:
        raise Open311Error(404, _("token“%(t)s”不存在。") % {"t": token[:40]})
    body = [{"service_request_id": link.case.tracking_code, "token": link.token}]
    return respond(fmt, "service_requests", body)
