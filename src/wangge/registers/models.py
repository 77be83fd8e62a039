"""Base registers (人、地、事、物、组织): people, households, buildings and houses, organisations,
management components, visits/patrols and care plans, and Excel import jobs.

Personal identifiers (ID numbers, phones) and special-group membership are stored only as
ciphertext (``*_enc``, AES-GCM, see :mod:`wangge.registers.crypto`) next to a keyed hash
(``*_hash``, HMAC-SHA256) for exact search and de-duplication. Only services in
:mod:`wangge.registers.services` write these tables; every row carries the materialized path of
its grid (``region_path``) so reads are scoped by prefix, like cases.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from wangge.accounts.permissions import RestrictedQuerySet

from .choices import (
    ComponentStatus,
    DuplicatePolicy,
    HouseUse,
    IdType,
    ImportKind,
    ImportStatus,
    OrgKind,
    Ownership,
    PersonFlag,
    Relation,
    RentalStatus,
    Sex,
    VisitKind,
)

USER = settings.AUTH_USER_MODEL


class GridBound(models.Model):
    """An object hung under a grid (or micro-grid); ``region_path`` copies the grid's path."""

    grid = models.ForeignKey(
        "geo.Region", verbose_name=_("所属网格"), on_delete=models.PROTECT, related_name="+"
    )
    region_path = models.CharField(max_length=255, db_index=True, editable=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = RestrictedQuerySet.as_manager()
    scope_path_field = "region_path"

    class Meta:
        abstract = True

    @property
    def audit_region_path(self) -> str:
        return self.region_path


# --- 地: buildings and houses (实有房屋 / 标准地址) --------------------------------------------
class Building(GridBound):
    """A building (楼栋) with its standard address; houses hang under it by unit and room."""

    code = models.CharField(_("楼栋编码"), max_length=32, unique=True)
    name = models.CharField(_("楼栋名称"), max_length=100)
    address = models.CharField(_("标准地址"), max_length=255)
    floors = models.PositiveSmallIntegerField(_("地上层数"), null=True, blank=True)
    build_year = models.PositiveSmallIntegerField(_("建成年份"), null=True, blank=True)
    lon = models.FloatField(_("经度(WGS-84)"), null=True, blank=True)
    lat = models.FloatField(_("纬度(WGS-84)"), null=True, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("楼栋")
        verbose_name_plural = _("楼栋")

    def __str__(self) -> str:
        return self.address or self.name


class House(GridBound):
    """实有房屋: one dwelling or premises, building → unit → room."""

    building = models.ForeignKey(
        Building, verbose_name=_("楼栋"), on_delete=models.PROTECT, related_name="houses"
    )
    code = models.CharField(_("房屋编码"), max_length=40, unique=True)
    unit = models.CharField(_("单元"), max_length=16, blank=True)
    floor = models.SmallIntegerField(_("楼层"), null=True, blank=True)
    room = models.CharField(_("房号"), max_length=16)
    address = models.CharField(_("房屋地址"), max_length=255)
    use = models.CharField(_("房屋用途"), max_length=16, choices=HouseUse.choices)
    area_m2 = models.DecimalField(
        _("建筑面积(平方米)"), max_digits=9, decimal_places=2, null=True, blank=True
    )
    ownership = models.CharField(_("产权性质"), max_length=16, choices=Ownership.choices)
    owner = models.ForeignKey(
        "Person",
        verbose_name=_("产权人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_houses",
    )
    owner_name = models.CharField(_("产权人/单位名称"), max_length=100, blank=True)
    rental_status = models.CharField(
        _("居住状态"), max_length=16, choices=RentalStatus.choices, default="owner_occupied"
    )
    hazards = models.JSONField(_("隐患"), default=list, blank=True)
    hazard_note = models.CharField(_("隐患说明"), max_length=255, blank=True)
    lon = models.FloatField(_("经度(WGS-84)"), null=True, blank=True)
    lat = models.FloatField(_("纬度(WGS-84)"), null=True, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("实有房屋")
        verbose_name_plural = _("实有房屋")
        constraints = [
            models.UniqueConstraint(
                fields=["building", "unit", "room"], name="uniq_house_building_unit_room"
            )
        ]

    def __str__(self) -> str:
        return self.address


class Household(GridBound):
    """户: people registered together; the head is the member whose relation is 户主."""

    household_no = models.CharField(_("户号"), max_length=32, unique=True)
    house = models.ForeignKey(
        House,
        verbose_name=_("居住房屋"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="households",
    )
    address = models.CharField(_("住址"), max_length=255, blank=True)
    is_collective = models.BooleanField(_("集体户"), default=False)

    class Meta:
        ordering = ["household_no"]
        verbose_name = _("户")
        verbose_name_plural = _("户")

    def __str__(self) -> str:
        return self.household_no


# --- 人: people (实有人口) --------------------------------------------------------------------
class Person(GridBound):
    """实有人口. ``id_number_enc``/``phone_enc`` hold AES-GCM ciphertext, ``*_hash`` the blind
    index; ``sensitive_enc`` holds the encrypted special-group record for *every* person (an empty
    one for most), so its presence says nothing. Erasure (PIPL) keeps the row as a tombstone so
    visits, tenancies and case links stay intact."""

    household = models.ForeignKey(
        Household,
        verbose_name=_("户"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
    )
    relation = models.CharField(
        _("与户主关系"), max_length=16, choices=Relation.choices, blank=True
    )
    house = models.ForeignKey(
        House,
        verbose_name=_("现住房屋"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="residents",
    )
    id_type = models.CharField(
        _("证件类型"), max_length=20, choices=IdType.choices, default=IdType.RESIDENT_ID
    )
    id_number_enc = models.TextField(_("证件号码(密文)"), blank=True)
    id_number_hash = models.CharField(max_length=64, blank=True, db_index=True)
    name = models.CharField(_("姓名"), max_length=64, db_index=True)
    sex = models.CharField(_("性别"), max_length=8, choices=Sex.choices, default=Sex.UNKNOWN)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True, db_index=True)
    ethnicity = models.CharField(_("民族"), max_length=16, blank=True)
    phone_enc = models.TextField(_("联系电话(密文)"), blank=True)
    phone_hash = models.CharField(max_length=64, blank=True, db_index=True)
    registered_address = models.CharField(_("户籍地"), max_length=255, blank=True)
    current_address = models.CharField(_("现住地"), max_length=255, blank=True)
    registration_matches = models.BooleanField(_("人户一致"), default=True)
    # Ordinary status flags (PersonFlag); 高龄 is derived from birth_date.
    is_floating = models.BooleanField(_("流动人口"), default=False)
    is_left_behind = models.BooleanField(_("留守人员"), default=False)
    is_elderly_alone = models.BooleanField(_("独居老人"), default=False)
    is_disabled = models.BooleanField(_("残疾人"), default=False)
    is_low_income = models.BooleanField(_("低保/困难"), default=False)
    is_veteran = models.BooleanField(_("退役军人"), default=False)
    flag_since = models.JSONField(_("标识起始日期"), default=dict, blank=True)
    arrival_date = models.DateField(_("来本地日期"), null=True, blank=True)
    residence_permit_until = models.DateField(_("居住证有效期至"), null=True, blank=True)
    disability_grade = models.CharField(_("残疾等级"), max_length=16, blank=True)
    sensitive_enc = models.TextField(_("特殊人群(密文)"), blank=True)
    last_visit_at = models.DateTimeField(_("最近走访"), null=True, blank=True)
    erased_at = models.DateTimeField(_("个人信息删除时间"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["region_path", "id"]
        verbose_name = _("实有人口")
        verbose_name_plural = _("实有人口")
        permissions = [
            ("reveal_pii", _("查看完整证件号码和电话(需填写事由)")),
            ("view_sensitive", _("查看特殊人群个人信息")),
            ("export_person", _("导出人口个人信息")),
            ("erase_person", _("删除个人信息(个人信息保护法)")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["id_number_hash"],
                condition=~Q(id_number_hash=""),
                name="uniq_person_id_number",
            )
        ]
        indexes = [
            # Covers the grid profile's people aggregate (every column it reads), so the count
            # is an index-only range whose cost follows the grid, not the city.
            models.Index(
                fields=[
                    "grid",
                    "erased_at",
                    "birth_date",
                    "is_floating",
                    "is_left_behind",
                    "is_elderly_alone",
                    "is_disabled",
                    "is_low_income",
                    "is_veteran",
                ],
                name="person_grid_profile",
            ),
            models.Index(
                fields=["grid"], name="person_elderly_alone", condition=Q(is_elderly_alone=True)
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def flags(self) -> list[str]:
        """The ordinary flags this person carries (PersonFlag values), 高龄 included."""
        from .identity import is_advanced_age

        result = [flag for flag, column in FLAG_COLUMNS.items() if getattr(self, column)]
        if is_advanced_age(self.birth_date):
            result.append(PersonFlag.ADVANCED_AGE.value)
        return result


# PersonFlag → boolean column (高龄 has none: it is computed).
FLAG_COLUMNS: dict[str, str] = {
    PersonFlag.FLOATING: "is_floating",
    PersonFlag.LEFT_BEHIND: "is_left_behind",
    PersonFlag.ELDERLY_ALONE: "is_elderly_alone",
    PersonFlag.DISABLED: "is_disabled",
    PersonFlag.LOW_INCOME: "is_low_income",
    PersonFlag.VETERAN: "is_veteran",
}


class SensitiveGroupCount(models.Model):
    """Per-grid head count of each special group, kept by the services that change membership.

    Lets roles without ``registers.view_sensitive`` see aggregates (and the map draw them)
    without decrypting anyone's record."""

    grid = models.ForeignKey("geo.Region", on_delete=models.CASCADE, related_name="+")
    region_path = models.CharField(max_length=255, db_index=True)
    group = models.CharField(max_length=16)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["grid", "group"], name="uniq_sensitive_count")
        ]

    def __str__(self) -> str:
        return f"{self.grid_id} {self.group}={self.count}"


class Tenancy(models.Model):
    """A tenant (linked to a person) living in a rented house."""

    house = models.ForeignKey(House, on_delete=models.CASCADE, related_name="tenancies")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="tenancies")
    start_date = models.DateField(_("起租日期"), null=True, blank=True)
    end_date = models.DateField(_("到期日期"), null=True, blank=True)
    note = models.CharField(_("备注"), max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["house", "-start_date", "id"]
        default_permissions = ()
        verbose_name = _("租住关系")
        verbose_name_plural = _("租住关系")

    def __str__(self) -> str:
        return f"{self.house_id}←{self.person_id}"


# --- 组织: organisations -----------------------------------------------------------------------
class Organisation(GridBound):
    """单位/企业/社会组织, identified by its 18-character unified social credit code.

    The party organisation link is added by the party app (it points at this model)."""

    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    name = models.CharField(_("名称"), max_length=200, db_index=True)
    kind = models.CharField(_("类型"), max_length=16, choices=OrgKind.choices)
    industry = models.CharField(_("行业"), max_length=64, blank=True)
    address = models.CharField(_("地址"), max_length=255)
    building = models.ForeignKey(
        Building,
        verbose_name=_("所在楼栋"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="organisations",
    )
    legal_representative = models.CharField(_("法定代表人/负责人"), max_length=64, blank=True)
    contact_name = models.CharField(_("联系人"), max_length=64, blank=True)
    contact_phone_enc = models.TextField(_("联系电话(密文)"), blank=True)
    contact_phone_hash = models.CharField(max_length=64, blank=True, db_index=True)
    employees = models.PositiveIntegerField(_("从业人数"), null=True, blank=True)
    lon = models.FloatField(_("经度(WGS-84)"), null=True, blank=True)
    lat = models.FloatField(_("纬度(WGS-84)"), null=True, blank=True)
    is_active = models.BooleanField(_("存续"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("单位组织")
        verbose_name_plural = _("单位组织")

    def __str__(self) -> str:
        return self.name


# --- 物: management components (管理部件) ------------------------------------------------------
class Component(GridBound):
    """A management component (部件): GB/T 47678.5 class code (5 digits) and the 17-digit
    identifier county(6) + class(5) + serial(6)."""

    identifier = models.CharField(_("部件标识码"), max_length=17, unique=True)
    class_code = models.CharField(_("部件小类代码"), max_length=5, db_index=True)
    class_name = models.CharField(_("部件名称"), max_length=64)
    name = models.CharField(_("名称/描述"), max_length=100, blank=True)
    address = models.CharField(_("位置描述"), max_length=255, blank=True)
    lon = models.FloatField(_("经度(WGS-84)"))
    lat = models.FloatField(_("纬度(WGS-84)"))
    status = models.CharField(
        _("状态"), max_length=16, choices=ComponentStatus.choices, default=ComponentStatus.INTACT
    )
    status_changed_at = models.DateTimeField(_("状态变更时间"), null=True, blank=True)
    managing_department = models.CharField(_("主管部门"), max_length=100, blank=True)
    owner_unit = models.CharField(_("权属单位"), max_length=100, blank=True)
    maintenance_unit = models.CharField(_("养护单位"), max_length=100, blank=True)

    class Meta:
        ordering = ["identifier"]
        verbose_name = _("管理部件")
        verbose_name_plural = _("管理部件")
        indexes = [models.Index(fields=["grid", "status"], name="component_grid_status")]

    def __str__(self) -> str:
        return f"{self.identifier} {self.class_name}"


# --- 事: visits, patrols and care plans ---------------------------------------------------------
class Visit(GridBound):
    """走访 (a person or household) or 巡查 (a place, organisation or component), with a location
    check-in and its distance to the target."""

    kind = models.CharField(_("类型"), max_length=8, choices=VisitKind.choices)
    visitor = models.ForeignKey(
        USER, verbose_name=_("走访人"), on_delete=models.PROTECT, related_name="+"
    )
    visited_at = models.DateTimeField(_("走访时间"), db_index=True)
    lon = models.FloatField(_("签到经度(WGS-84)"), null=True, blank=True)
    lat = models.FloatField(_("签到纬度(WGS-84)"), null=True, blank=True)
    distance_m = models.FloatField(_("距目标距离(米)"), null=True, blank=True)
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="visits"
    )
    household = models.ForeignKey(
        Household, null=True, blank=True, on_delete=models.PROTECT, related_name="visits"
    )
    house = models.ForeignKey(
        House, null=True, blank=True, on_delete=models.PROTECT, related_name="visits"
    )
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="visits"
    )
    component = models.ForeignKey(
        Component, null=True, blank=True, on_delete=models.PROTECT, related_name="visits"
    )
    notes = models.TextField(_("情况记录"), blank=True)

    class Meta:
        ordering = ["-visited_at", "-id"]
        verbose_name = _("走访巡查")
        verbose_name_plural = _("走访巡查")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.visited_at:%Y-%m-%d}"


class VisitPhoto(models.Model):
    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="photos")
    file = models.FileField(upload_to="registers/visits/%Y/%m/")
    content_type = models.CharField(max_length=32)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.visit_id} {self.sha256[:8]}"


class CarePlan(models.Model):
    """关爱计划: everyone in ``group`` under ``region`` is to be visited every ``interval_days``.

    The deepest plan covering a person wins. Only ordinary flags (PersonFlag) can have plans:
    special-group membership is encrypted and never queried in bulk."""

    region = models.ForeignKey("geo.Region", on_delete=models.CASCADE, related_name="+")
    region_path = models.CharField(max_length=255, db_index=True, editable=False)
    group = models.CharField(_("对象类别"), max_length=16, choices=PersonFlag.choices)
    interval_days = models.PositiveSmallIntegerField(_("走访周期(天)"))
    active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedQuerySet.as_manager()
    scope_path_field = "region_path"

    class Meta:
        ordering = ["region_path", "group"]
        verbose_name = _("关爱走访计划")
        verbose_name_plural = _("关爱走访计划")
        constraints = [
            models.UniqueConstraint(fields=["region", "group"], name="uniq_careplan_region_group")
        ]

    def __str__(self) -> str:
        return f"{self.group}/{self.interval_days}d"

    @property
    def audit_region_path(self) -> str:
        return self.region_path


# --- Excel import jobs ------------------------------------------------------------------------
class ImportJob(models.Model):
    """One Excel import (or dry run). The uploaded workbook is deleted once the job has run; the
    row report (row, column, reason — never the offending value) stays."""

    kind = models.CharField(_("台账类型"), max_length=16, choices=ImportKind.choices)
    status = models.CharField(
        _("状态"), max_length=16, choices=ImportStatus.choices, default=ImportStatus.PENDING
    )
    dry_run = models.BooleanField(_("试运行"), default=True)
    on_duplicate = models.CharField(
        _("重复记录处理"),
        max_length=8,
        choices=DuplicatePolicy.choices,
        default=DuplicatePolicy.ERROR,
    )
    file = models.FileField(upload_to="registers/imports/", blank=True)
    file_name = models.CharField(_("文件名"), max_length=255, blank=True)
    total_rows = models.PositiveIntegerField(_("总行数"), default=0)
    processed_rows = models.PositiveIntegerField(_("已处理行数"), default=0)
    created_count = models.PositiveIntegerField(_("新增"), default=0)
    updated_count = models.PositiveIntegerField(_("更新"), default=0)
    error_count = models.PositiveIntegerField(_("错误数"), default=0)
    errors = models.JSONField(_("错误报告"), default=list, blank=True)
    message = models.CharField(_("说明"), max_length=255, blank=True)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("导入任务")
        verbose_name_plural = _("导入任务")
        default_permissions = ("view",)
        permissions = [("import_registers", _("从 Excel 导入台账"))]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"

    @property
    def progress_percent(self) -> int:
        if not self.total_rows:
            return 100 if self.status in (ImportStatus.DONE, ImportStatus.FAILED) else 0
        return min(100, round(100 * self.processed_rows / self.total_rows))
