from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.translation import check_for_language

from .context import client_ip_var, new_request_id, request_id_var

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    """Take a sane X-Request-ID from the proxy or make one; echo it in the response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        rid = incoming if _SAFE_ID.match(incoming) else new_request_id()
        request.request_id = rid  # type: ignore[attr-defined]
        token = request_id_var.set(rid)
        ip_token = client_ip_var.set(request.META.get("REMOTE_ADDR", ""))
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
            client_ip_var.reset(ip_token)
        response["X-Request-ID"] = rid
        return response


class ChineseFirstLocaleMiddleware(LocaleMiddleware):
    """Simplified Chinese unless the user chose another language.

    Pages follow the language cookie set by the language menu and otherwise speak the default
    (简体中文), whatever the browser's Accept-Language says: a county's shared or borrowed phones
    often carry foreign defaults. The API also honours Accept-Language, because machine clients
    state their language explicitly; so does the Open311 endpoint.
    """

    def process_request(self, request: HttpRequest) -> None:
        if request.path_info.startswith(("/api/", "/open311/")):
            super().process_request(request)
            return
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        language = (
            chosen
            if chosen and check_for_language(chosen) and chosen in dict(settings.LANGUAGES)
            else settings.LANGUAGE_CODE
        )
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()


class RejectNulMiddleware:
    """Refuse text containing NUL (U+0000) with 400 before any view sees it.

    PostgreSQL cannot store or compare NUL in text, so such a value reaching a query is a server
    error there (SQLite accepts it: the two databases would answer differently). No legitimate
    form field, query parameter or JSON string carries one. Checked: query parameters, url-encoded
    and multipart form fields (not uploaded files), and JSON bodies (raw NUL or ``\\u0000``)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._has_nul(request):
            return self._refuse(request)
        return self.get_response(request)

    @staticmethod
    def _has_nul(request: HttpRequest) -> bool:
        def any_nul(data: Any) -> bool:
            return any("\x00" in k or any("\x00" in v for v in data.getlist(k)) for k in data)

        if "\x00" in request.path or any_nul(request.GET):
            return True
        if request.method not in ("POST", "PUT", "PATCH", "DELETE"):
            return False
        content_type = request.content_type or ""
        form = content_type in ("application/x-www-form-urlencoded", "multipart/form-data")
        if not (form or content_type.endswith("json")):
            return False
        # Only bodies Django would hold in memory anyway: reading a larger one here would either
        # raise (the view must answer 413 in its own shape) or consume the upload stream.
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and int(request.META.get("CONTENT_LENGTH") or 0) > limit:
            return False
        body = request.body
        if not form:
            return b"\x00" in body or b"\\u0000" in body.lower()
        try:
            return any_nul(request.POST)  # parsed from the body read above
        except Exception:  # a malformed body is the view's to refuse, in its own shape
            return False

    @staticmethod
    def _refuse(request: HttpRequest) -> HttpResponse:
        from django.http import JsonResponse
        from django.utils.translation import gettext as _

        message = _("请求中含有不允许的空字符（NUL）。")
        if request.path.startswith("/open311/"):
            return JsonResponse([{"code": 400, "description": message}], status=400, safe=False)
        if request.path.startswith("/api/"):
            return JsonResponse(
                {"error": {"code": "malformed_body", "message": message}}, status=400
            )
        return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
