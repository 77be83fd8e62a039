"""Choices of the base registers (GB/T 31000-2015 "9+X" aligned)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class IdType(models.TextChoices):
    RESIDENT_ID = "resident_id", _("居民身份证")
    HK_MACAO_PERMIT = "hk_macao_permit", _("港澳居民来往内地通行证")
    TAIWAN_PERMIT = "taiwan_permit", _("台湾居民来往大陆通行证")
    HMT_RESIDENCE = "hmt_residence", _("港澳台居民居住证")
    PASSPORT = "passport", _("护照")
    FOREIGN_PERMANENT = "foreign_permanent", _("外国人永久居留身份证")
    OTHER = "other", _("其他证件")


class Sex(models.TextChoices):
    MALE = "male", _("男")
    FEMALE = "female", _("女")
    UNKNOWN = "unknown", _("未知")


class Relation(models.TextChoices):
    """户主关系 (GB/T 4761 family relation, shortened to the values street offices use)."""

    HEAD = "head", _("户主")
    SPOUSE = "spouse", _("配偶")
    CHILD = "child", _("子女")
    PARENT = "parent", _("父母")
    GRANDPARENT = "grandparent", _("祖父母/外祖父母")
    GRANDCHILD = "grandchild", _("孙子女/外孙子女")
    SIBLING = "sibling", _("兄弟姐妹")
    CHILD_IN_LAW = "child_in_law", _("儿媳/女婿")
    OTHER = "other", _("其他")


class PersonFlag(models.TextChoices):
    """Ordinary status flags: plain columns on Person, visible to anyone who may see the person.

    高龄 (advanced age, 80 or older) is computed from the birth date, never stored."""

    FLOATING = "floating", _("流动人口")
    LEFT_BEHIND = "left_behind", _("留守人员")
    ELDERLY_ALONE = "elderly_alone", _("独居老人")
    ADVANCED_AGE = "advanced_age", _("高龄老人")
    DISABLED = "disabled", _("残疾人")
    LOW_INCOME = "low_income", _("低保/困难")
    VETERAN = "veteran", _("退役军人")


class SensitiveGroup(models.TextChoices):
    """特殊人群 (GB/T 31000 重点人员): encrypted at rest, visible only with
    ``registers.view_sensitive``; other roles see aggregated counts per grid."""

    KEY_YOUTH = "key_youth", _("重点青少年")
    RELEASED = "released", _("安置帮教(刑满释放)")
    CORRECTION = "correction", _("社区矫正")
    MENTAL = "mental", _("严重精神障碍患者")
    DRUG = "drug", _("吸毒人员")
    AIDS_RISK = "aids_risk", _("艾滋病危险人员")


class HouseUse(models.TextChoices):
    RESIDENTIAL = "residential", _("住宅")
    COMMERCIAL = "commercial", _("商业")
    OFFICE = "office", _("办公")
    INDUSTRIAL = "industrial", _("工业/仓储")
    MIXED = "mixed", _("商住混合")
    PUBLIC = "public", _("公共服务")
    OTHER = "other", _("其他")


class Ownership(models.TextChoices):
    PRIVATE = "private", _("私有产权")
    PUBLIC = "public", _("公有产权")
    UNIT = "unit", _("单位产权")
    COLLECTIVE = "collective", _("集体产权")
    OTHER = "other", _("其他")


class RentalStatus(models.TextChoices):
    OWNER_OCCUPIED = "owner_occupied", _("自住")
    RENTED = "rented", _("出租")
    PARTLY_RENTED = "partly_rented", _("部分出租")
    VACANT = "vacant", _("空置")


class Hazard(models.TextChoices):
    """Hazards recorded on a house (隐患)."""

    FIRE = "fire", _("消防隐患")
    STRUCTURE = "structure", _("结构安全(危房)")
    GAS = "gas", _("燃气隐患")
    ELECTRIC = "electric", _("电气线路隐患")
    GROUP_RENTAL = "group_rental", _("群租")
    ILLEGAL_BUILD = "illegal_build", _("违法建设")
    OTHER = "other", _("其他隐患")


class OrgKind(models.TextChoices):
    ENTERPRISE = "enterprise", _("企业")
    INDIVIDUAL = "individual", _("个体工商户")
    SOCIAL = "social", _("社会组织")
    PUBLIC_INSTITUTION = "institution", _("机关事业单位")
    OTHER = "other", _("其他")


class ComponentStatus(models.TextChoices):
    INTACT = "intact", _("完好")
    DAMAGED = "damaged", _("破损")
    LOST = "lost", _("丢失")
    ABANDONED = "abandoned", _("废弃")
    REMOVED = "removed", _("移除")


class VisitKind(models.TextChoices):
    VISIT = "visit", _("走访")
    PATROL = "patrol", _("巡查")


class ImportKind(models.TextChoices):
    PEOPLE = "people", _("实有人口")
    HOUSES = "houses", _("实有房屋")
    ORGANISATIONS = "organisations", _("单位组织")
    COMPONENTS = "components", _("管理部件")


class DuplicatePolicy(models.TextChoices):
    """What an import does with a row whose key (ID number, credit code …) already exists."""

    ERROR = "error", _("视为错误(仅新增)")
    UPDATE = "update", _("更新已有记录")


class ImportStatus(models.TextChoices):
    PENDING = "pending", _("排队中")
    RUNNING = "running", _("进行中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("有错误，未导入")
    CRASHED = "crashed", _("异常中止")


# The 56 ethnic groups in GB/T 3304 order (index + 1 is the code).
ETHNICITIES = [
    "汉族", "蒙古族", "回族", "藏族", "维吾尔族", "苗族", "彝族", "壮族", "布依族", "朝鲜族",
    "满族", "侗族", "瑶族", "白族", "土家族", "哈尼族", "哈萨克族", "傣族", "黎族", "傈僳族",
    "佤族", "畲族", "高山族", "拉祜族", "水族", "东乡族", "纳西族", "景颇族", "柯尔克孜族", "土族",
    "达斡尔族", "仫佬族", "羌族", "布朗族", "撒拉族", "毛南族", "仡佬族", "锡伯族", "阿昌族",
    "普米族", "塔吉克族", "怒族", "乌孜别克族", "俄罗斯族", "鄂温克族", "德昂族", "保安族",
    "裕固族", "京族", "塔塔尔族", "独龙族", "鄂伦春族", "赫哲族", "门巴族", "珞巴族", "基诺族",
]  # fmt: skip
