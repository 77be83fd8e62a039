"""The ninja root: one API object, one mapping of domain errors to HTTP."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from wangge.core.exceptions import WanggeError

from .auth import api_auth

api = NinjaAPI(
    title="Wangge API",
    version="1",
    description=_("网格化治理平台接口。令牌认证：Authorization: Bearer wg_…"),
    auth=api_auth,
    urls_namespace="api",
    docs_url="/docs",
)


def error_body(code: str, message: str, errors: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"error": {"code": code, "message": message}}
    if errors:
        body["error"]["details"] = errors
    return body


@api.exception_handler(WanggeError)
def _domain_error(request: HttpRequest, exc: WanggeError) -> HttpResponse:
    message = exc.message
    if exc.status == 404 and message in ("", "region", "user", "assignment"):
        message = _("对象不存在或不在您的管辖范围内。")
    return api.create_response(
        request, error_body(exc.code, message, exc.errors or None), status=exc.status
    )


@api.exception_handler(NinjaValidationError)
def _validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    return api.create_response(
        request, error_body("validation_error", _("请求参数有误。"), exc.errors), status=422
    )


@api.exception_handler(AuthenticationError)
def _auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(
        request, error_body("unauthorized", _("未登录或令牌无效。")), status=401
    )


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400 and str(exc.message).startswith("Cannot parse request body"):
        # ninja's own words for a body that is not JSON (malformed, XML, a form …).
        message = _("请求体无法解析：请发送JSON格式（Content-Type: application/json）。")
        return api.create_response(request, error_body("malformed_body", message), status=400)
    return api.create_response(
        request, error_body("http_error", str(exc.message)), status=exc.status_code
    )


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, exc: Exception) -> HttpResponse:
    return api.create_response(request, error_body("too_large", _("请求内容过大。")), status=413)


@api.exception_handler(SuspiciousOperation)
def _suspicious(request: HttpRequest, exc: Exception) -> HttpResponse:
    return api.create_response(
        request, error_body("bad_request", _("请求格式不正确。")), status=400
    )


def _register_routers() -> None:
    from wangge.accounts.api import router as accounts_router
    from wangge.analytics.api import router as indicators_router
    from wangge.cases.api import router as cases_router
    from wangge.geo.api import router as geo_router
    from wangge.party.api import router as party_router
    from wangge.registers.api import router as registers_router

    from .webhooks_api import router as webhooks_router

    api.add_router("/geo/", geo_router)
    api.add_router("/accounts/", accounts_router)
    api.add_router("/cases/", cases_router)
    api.add_router("/registers/", registers_router)
    api.add_router("/indicators/", indicators_router)
    api.add_router("/webhooks/", webhooks_router)
    api.add_router("/party/", party_router)


_register_routers()
