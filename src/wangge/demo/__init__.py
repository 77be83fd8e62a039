"""The demo city (姑苏区, Suzhou): a deterministic region tree with grids and demo logins.

A plain package, not a Django app: ``wangge demo`` (``web/management/commands/demo.py``) and
``wangge run`` use it. Importing it does not touch models, so it is safe before apps are ready.
"""

from __future__ import annotations

from .users import DEMO_LOGINS, DEMO_PASSWORD, DemoLogin

__all__ = ["DEMO_LOGINS", "DEMO_PASSWORD", "DemoLogin", "demo_is_loaded", "demo_logins"]


def demo_is_loaded() -> bool:
    """Whether the demo district has been built in this database."""
    from .services import demo_is_loaded as loaded

    return loaded()


def demo_logins() -> list[DemoLogin]:
    """The named logins as stored in this database (right for any seed, unlike DEMO_LOGINS,
    which describes the default one)."""
    from .services import demo_logins as stored

    return stored()
