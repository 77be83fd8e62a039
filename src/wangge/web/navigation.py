"""Role-aware navigation: an item shows only when the user holds its permission somewhere."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from wangge.accounts.permissions import has_perm_anywhere


@dataclass(frozen=True)
class NavItem:
    label: str | Promise
    url_name: str
    perm: str | None  # None: any signed-in user
    icon: str = ""
    description: str | Promise = ""  # what the page lets you do (shown on the home page)


NAV: list[NavItem] = [
    NavItem(_("首页"), "web:home", None, "⌂"),
    NavItem(
        _("区域与网格"),
        "web:regions",
        "geo.view_region",
        "▦",
        _("浏览辖区的区域树和网格地图，查看户数、人口和网格人员。"),
    ),
    NavItem(
        _("搜索"),
        "web:search",
        "geo.view_region",
        "⌕",
        _("按名称或代码查找辖区内的区域和网格。"),
    ),
    NavItem(
        _("用户与授权"),
        "web:users",
        "accounts.view_user",
        "☺",
        _("查看辖区内的用户及其角色授权；管理员可创建用户、授权和发放接口令牌。"),
    ),
    NavItem(
        _("审计日志"),
        "web:audit",
        "core.view_auditrecord",
        "✎",
        _("查看辖区内的操作记录，按操作、操作人和日期筛选。"),
    ),
]


def navigation_for(user: Any, current_path: str) -> list[dict[str, Any]]:
    if not getattr(user, "is_authenticated", False):
        return []
    items = []
    for item in NAV:
        if item.perm and not has_perm_anywhere(user, item.perm):
            continue
        url = reverse(item.url_name)
        active = current_path == url or (url != "/" and current_path.startswith(url))
        items.append(
            {
                "label": item.label,
                "url": url,
                "icon": item.icon,
                "active": active,
                "description": item.description,
            }
        )
    return items
