"""Role-aware navigation: an item shows only when the user holds its permission somewhere."""

from __future__ import annotations

from collections.abc import Callable
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
    only_if: Callable[[Any], bool] | None = None  # a further condition on the user


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
        _("反映问题"),
        "public:report",
        None,
        "✉",
        _("反映身边的问题（拍照、定位），凭查询码查看办理进度并评价。"),
        only_if=lambda user: not _is_case_staff(user),
    ),
    NavItem(
        _("我的任务"),
        "cases:my",
        "cases.transition_case",
        "☑",
        _("待办理和待核查的事件，带办理时限倒计时。"),
        only_if=lambda user: not _is_department_only(user),
    ),
    NavItem(
        _("巡查上报"),
        "cases:new",
        "cases.add_case",
        "＋",
        _("巡查发现问题随手报，小事可现场处置一步办结。"),
    ),
    NavItem(
        _("事件调度"),
        "cases:queue",
        "cases.view_case",
        "☰",
        _("辖区事件按状态、类型、网格、超时筛选；受理、派遣、吹哨、审批、督办。"),
    ),
    NavItem(
        _("部门工单"),
        "cases:work_orders",
        "cases.transition_case",
        "⚑",
        _("本部门的工单和吹哨报到任务：签收、退回、办结反馈。"),
        only_if=lambda user: user.departments.exists(),
    ),
    NavItem(
        _("实有人口"),
        "registers:people",
        "registers.view_person",
        "☷",
        _("辖区人口、户、房屋台账：证件号码和电话脱敏显示，查看完整信息需填写事由并留痕。"),
    ),
    NavItem(
        _("民情地图"),
        "registers:map",
        "registers.view_person",
        "◎",
        _("独居老人户、隐患房屋、部件状态和特殊人群(汇总)图层。"),
    ),
    NavItem(
        _("实有房屋"),
        "registers:houses",
        "registers.view_house",
        "⌂",
        _("楼栋和房屋台账：用途、面积、产权、出租和隐患；登记和退租租户。"),
    ),
    NavItem(
        _("单位组织"),
        "registers:organisations",
        "registers.view_organisation",
        "▤",
        _("辖区单位、企业和社会组织：信用代码校验，联系电话脱敏显示。"),
    ),
    NavItem(
        _("管理部件"),
        "registers:components",
        "registers.view_component",
        "⚙",
        _("井盖、路灯等管理部件：按网格和状态筛选，变更状态需填写原因。"),
    ),
    NavItem(
        _("台账导入"),
        "registers:imports",
        "registers.import_registers",
        "⇪",
        _("下载模板、试运行、查看逐行错误报告后导入 Excel 台账。"),
    ),
    NavItem(
        _("指挥中心"),
        "analytics:dashboard",
        "analytics.view_dashboard",
        "▣",
        _("一屏观全域：辖区指标、地图、趋势、超期清单和部门排行，逐级下钻。"),
    ),
    NavItem(
        _("考核"),
        "analytics:assessments",
        None,
        "★",
        _("考核方案、月度季度考核结果（可解释的得分和等级）以及统计报告。"),
        only_if=lambda user: _may_view_assessments(user),
    ),
    NavItem(
        _("我要点单"),
        "party:order_new",
        None,
        "♥",
        _("需要帮忙？点单后社区党支部派党员或志愿者上门服务。"),
        only_if=lambda user: not has_perm_anywhere(user, "party.dispatch_serviceorder"),
    ),
    NavItem(
        _("我的服务"),
        "party:me",
        None,
        "☆",
        _("我的点单、接单、时间银行和积分。"),
    ),
    NavItem(
        _("支部工作台"),
        "party:dashboard",
        "party.view_partymember",
        "✪",
        _("党员、双报到、组织生活、积分排行和组织覆盖情况。"),
    ),
    NavItem(
        _("服务订单"),
        "party:orders",
        "party.view_serviceorder",
        "⚐",
        _("群众点单、支部派单（含智能匹配和一键批量派单）、跟踪接单和评单。"),
    ),
    NavItem(
        _("用户与授权"),
        "web:users",
        "accounts.view_user",
        "☺",
        _("查看辖区内的用户及其角色授权；管理员可创建用户、授权和发放接口令牌。"),
    ),
    NavItem(
        _("推送订阅"),
        "integrations:webhooks",
        "api.manage_webhooks",
        "⇄",
        _("向外部系统推送事件上报、状态变化、超时和评价；查看投递记录并重发。"),
    ),
    NavItem(
        _("审计日志"),
        "web:audit",
        "core.view_auditrecord",
        "✎",
        _("查看辖区内的操作记录，按操作、操作人和日期筛选。"),
    ),
]


def _may_view_assessments(user: Any) -> bool:
    from wangge.analytics.selectors import may_view_assessments

    return may_view_assessments(user)


def _is_case_staff(user: Any) -> bool:
    return has_perm_anywhere(user, "cases.add_case") or has_perm_anywhere(
        user, "cases.transition_case"
    )


def _is_department_only(user: Any) -> bool:
    """Department staff act on their departments' work orders, not on grid tasks."""
    return not has_perm_anywhere(user, "cases.view_case") and user.departments.exists()


def navigation_for(user: Any, current_path: str) -> list[dict[str, Any]]:
    if not getattr(user, "is_authenticated", False):
        return []
    items = []
    for item in NAV:
        if item.perm and not has_perm_anywhere(user, item.perm):
            continue
        if item.only_if is not None and not item.only_if(user):
            continue
        url = reverse(item.url_name)
        active = current_path == url or (
            url not in ("/", "/cases/", "/party/") and current_path.startswith(url)
        )
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
