from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from wangge.core.selectors import health_status


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database answers and a worker beat recently; 503 otherwise."""
    status = health_status()
    return JsonResponse(status, status=200 if status["ok"] else 503)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "web/home.html", {})
