"""The spreadsheet columns of each register: one list drives the template, the importer and the
export, so the three always agree. Headers are the Chinese ones street offices use; ``*`` marks
a required column in the template (the importer accepts headers with or without it)."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from ..choices import (
    ComponentStatus,
    Hazard,
    HouseUse,
    IdType,
    ImportKind,
    OrgKind,
    Ownership,
    Relation,
    RentalStatus,
    SensitiveGroup,
    Sex,
)


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # the exact header text (Chinese; a data format, not a UI string)
    required: bool = False
    help: str = ""
    choices: tuple[str, ...] = ()
    width: int = 14


def _labels(choices: object) -> tuple[str, ...]:
    return tuple(str(label) for _value, label in choices.choices)  # type: ignore[attr-defined]


YES_NO = ("是", "否")

PEOPLE = [
    Column("grid", "网格代码", True, "15位网格代码(或微网格代码)", width=18),
    Column("name", "姓名", True, width=10),
    Column("id_type", "证件类型", False, "默认居民身份证", _labels(IdType), width=14),
    Column("id_number", "证件号码", True, "请以文本格式填写，18位身份证号含校验位", width=22),
    Column("sex", "性别", False, "身份证号码可推出，可不填", _labels(Sex), width=6),
    Column("birth_date", "出生日期", False, "YYYY-MM-DD；身份证号码可推出", width=12),
    Column("ethnicity", "民族", False, "如 汉族", width=8),
    Column("phone", "联系电话", False, "11位手机号或区号-号码", width=14),
    Column("household_no", "户号", False, "同一户号的人员归为一户；新户号自动建户", width=14),
    Column("relation", "与户主关系", False, "", _labels(Relation), width=10),
    Column("registered_address", "户籍地", False, width=24),
    Column("current_address", "现住地", False, width=24),
    Column("registration_matches", "人户一致", False, "是/否，默认是", YES_NO, width=8),
    Column("floating", "流动人口", False, "是/否", YES_NO, width=8),
    Column("arrival_date", "来本地日期", False, "流动人口填写", width=12),
    Column("residence_permit_until", "居住证有效期至", False, "流动人口填写", width=14),
    Column("left_behind", "留守人员", False, "是/否", YES_NO, width=8),
    Column("elderly_alone", "独居老人", False, "是/否", YES_NO, width=8),
    Column("disabled", "残疾人", False, "是/否", YES_NO, width=8),
    Column("disability_grade", "残疾等级", False, "如 二级", width=8),
    Column("low_income", "低保/困难", False, "是/否", YES_NO, width=8),
    Column("veteran", "退役军人", False, "是/否", YES_NO, width=8),
    Column(
        "special_groups",
        "特殊人群",
        False,
        "多个用顿号分隔；需“查看特殊人群”权限",
        _labels(SensitiveGroup),
        width=16,
    ),
]

HOUSES = [
    Column("grid", "网格代码", True, width=18),
    Column("building_code", "楼栋编码", True, "同一楼栋编码的房屋归为一栋；新编码自动建楼栋"),
    Column("building_name", "楼栋名称", True, "如 3幢"),
    Column("building_address", "楼栋地址", True, "标准地址，如 姑苏区十全街100号3幢", width=28),
    Column("unit", "单元", False, "如 1单元", width=8),
    Column("floor", "楼层", False, width=6),
    Column("room", "房号", True, width=8),
    Column("code", "房屋编码", True, width=20),
    Column("use", "房屋用途", True, "", _labels(HouseUse), width=10),
    Column("area_m2", "建筑面积", False, "平方米", width=10),
    Column("ownership", "产权性质", True, "", _labels(Ownership), width=10),
    Column("owner_name", "产权人", False, width=12),
    Column("rental_status", "居住状态", False, "默认自住", _labels(RentalStatus), width=10),
    Column("hazards", "隐患", False, "多个用顿号分隔", _labels(Hazard), width=16),
    Column("lon", "经度", False, "WGS-84"),
    Column("lat", "纬度", False, "WGS-84"),
]

ORGANISATIONS = [
    Column("grid", "网格代码", True, width=18),
    Column("credit_code", "统一社会信用代码", True, "18位，含校验位", width=22),
    Column("name", "单位名称", True, width=28),
    Column("kind", "单位类型", True, "", _labels(OrgKind), width=12),
    Column("industry", "行业", False),
    Column("address", "地址", True, width=28),
    Column("legal_representative", "法定代表人", False),
    Column("contact_name", "联系人", False),
    Column("contact_phone", "联系电话", False),
    Column("employees", "从业人数", False, width=10),
    Column("lon", "经度", False, "WGS-84"),
    Column("lat", "纬度", False, "WGS-84"),
]

COMPONENTS = [
    Column("grid", "网格代码", True, width=18),
    Column("identifier", "部件标识码", True, "17位：区县代码6位+小类代码5位+流水号6位", width=22),
    Column("class_code", "小类代码", True, "5位，如 01001", width=10),
    Column("class_name", "部件名称", True, "如 供水井盖"),
    Column("name", "描述", False),
    Column("address", "位置描述", False, width=24),
    Column("lon", "经度", True, "WGS-84"),
    Column("lat", "纬度", True, "WGS-84"),
    Column("status", "状态", False, "默认完好", _labels(ComponentStatus), width=8),
    Column("managing_department", "主管部门", False),
    Column("owner_unit", "权属单位", False),
    Column("maintenance_unit", "养护单位", False),
]

COLUMNS: dict[str, list[Column]] = {
    ImportKind.PEOPLE: PEOPLE,
    ImportKind.HOUSES: HOUSES,
    ImportKind.ORGANISATIONS: ORGANISATIONS,
    ImportKind.COMPONENTS: COMPONENTS,
}

SHEET_TITLES: dict[str, str] = {
    ImportKind.PEOPLE: "实有人口",
    ImportKind.HOUSES: "实有房屋",
    ImportKind.ORGANISATIONS: "单位组织",
    ImportKind.COMPONENTS: "管理部件",
}

TEMPLATE_NOTE = _("第一行为表头，请勿修改；带 * 的列必填。数据从第二行开始。")
