from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import APIKeyHeader, HttpBearer, SessionAuth

from wangge.accounts.services import api_token_authenticate


class TokenAuth(HttpBearer):
    """``Authorization: Bearer wg_…`` for machine clients."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = api_token_authenticate(token)
        if user is not None:
            request.user = user
        return user


class TokenHeaderAuth(APIKeyHeader):
    """``X-API-Token: wg_…`` for clients that cannot set Authorization."""

    param_name = "X-API-Token"

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = api_token_authenticate(key or "")
        if user is not None:
            request.user = user
        return user


class ActiveSessionAuth(SessionAuth):
    """Session cookie (pages calling the API), CSRF-checked for unsafe methods."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        if user is not None and not user.is_active:
            return None
        return user


api_auth = [TokenAuth(), TokenHeaderAuth(), ActiveSessionAuth()]
