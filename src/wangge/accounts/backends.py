from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from .models import User


class UsernameOrMobileBackend(ModelBackend):
    """Sign in with a username or an 11-digit mobile number."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if username is None or password is None:
            return None
        username = username.strip()
        user = User.objects.filter(username=username).first()
        if user is None and username.isdigit() and len(username) == 11:
            user = User.objects.filter(mobile=username).first()
        if user is None:
            User().set_password(password)  # same work either way: no timing oracle
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
