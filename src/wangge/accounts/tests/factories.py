from __future__ import annotations

import itertools

from wangge.accounts.models import Role, User
from wangge.accounts.services import role_assign
from wangge.geo.models import Region

_seq = itertools.count(1)
PASSWORD = "Wangge-test-2026"


def make_user(
    username: str | None = None,
    *,
    role: str | None = None,
    region: Region | None = None,
    password: str = PASSWORD,
    **extra,
) -> User:
    user = User.objects.create_user(
        username=username or f"user{next(_seq)}", password=password, **extra
    )
    if role and region is not None:
        role_assign(
            actor=None, user=user, role=Role.objects.get(code=role), region=region, audit=False
        )
    return user
