"""Forms of the register pages. They parse and shape input for the services in
:mod:`wangge.registers.services`, which validate it again (the same rules as the API and the
Excel import) and raise errors keyed by field, shown on the form by ``add_domain_error``.

Identifiers are never shown in clear on a form: an edit form leaves the ID number and phone
empty (the masked value is the placeholder), and an empty field keeps what is stored."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from wangge.core.exceptions import NotFound

from .choices import (
    ETHNICITIES,
    ComponentStatus,
    Hazard,
    HouseUse,
    IdType,
    OrgKind,
    Ownership,
    PersonFlag,
    Relation,
    RentalStatus,
    SensitiveGroup,
    Sex,
)
from .selectors import (
    PersonFilters,
    building_by_code_for_user,
    house_by_code_for_user,
    household_by_no_for_user,
    person_list_for_user,
)

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
# 高龄 is computed from the birth date: it is never ticked by hand.
EDITABLE_FLAGS = [(v, label) for v, label in PersonFlag.choices if v != PersonFlag.ADVANCED_AGE]
KEEP_HINT = _("留空则保持不变")


class GridField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("所属网格代码"))
        kwargs.setdefault("max_length", 32)
        kwargs.setdefault("help_text", _("15位网格代码(或微网格代码)，须在您的管辖范围内"))
        super().__init__(**kwargs)

    def clean(self, value: Any) -> str:
        return str(super().clean(value) or "").strip()


def _text(label: Any, max_length: int, *, required: bool = False, **kw: Any) -> forms.CharField:
    return forms.CharField(label=label, max_length=max_length, required=required, **kw)


class RegisterForm(forms.Form):
    """A form bound to the signed-in user (look-ups of linked records are scoped to them)."""

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        self.user = user
        super().__init__(*args, **kwargs)

    def _lookup(self, field: str, finder: Any) -> Any:
        value = self.cleaned_data.get(field)
        if not value:
            return None
        try:
            return finder(self.user, value)
        except NotFound as exc:
            raise forms.ValidationError(exc.message) from exc


# --- 人 ------------------------------------------------------------------------------------------
class PersonForm(RegisterForm):
    grid = GridField()
    name = _text(_("姓名"), 64, required=True)
    id_type = forms.ChoiceField(label=_("证件类型"), choices=IdType.choices)
    id_number = _text(
        _("证件号码"), 32, required=True, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    sex = forms.ChoiceField(
        label=_("性别"),
        choices=Sex.choices,
        initial=Sex.UNKNOWN,
        help_text=_("居民身份证自动识别性别和出生日期"),
    )
    birth_date = forms.DateField(label=_("出生日期"), required=False, widget=DATE)
    ethnicity = forms.ChoiceField(
        label=_("民族"), choices=[("", "—"), *((e, e) for e in ETHNICITIES)], required=False
    )
    phone = _text(_("联系电话"), 32, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    household_no = _text(_("户号"), 32, help_text=_("已登记的户号，可不填"))
    relation = forms.ChoiceField(
        label=_("与户主关系"), choices=[("", "—"), *Relation.choices], required=False
    )
    house_code = _text(_("现住房屋编码"), 40, help_text=_("已登记的房屋编码，可不填"))
    registered_address = _text(_("户籍地"), 255)
    current_address = _text(_("现住地"), 255)
    registration_matches = forms.BooleanField(label=_("人户一致"), required=False, initial=True)
    flags = forms.MultipleChoiceField(
        label=_("类别"),
        choices=EDITABLE_FLAGS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("高龄(80岁及以上)按出生日期自动计算"),
    )
    arrival_date = forms.DateField(label=_("来本地日期"), required=False, widget=DATE)
    residence_permit_until = forms.DateField(label=_("居住证有效期至"), required=False, widget=DATE)
    disability_grade = _text(_("残疾等级"), 16)

    def __init__(
        self,
        *args: Any,
        user: Any,
        sensitive_allowed: bool = False,
        masked: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, user=user, **kwargs)
        for flag, label in EDITABLE_FLAGS:
            self.fields[f"since_{flag}"] = forms.DateField(
                label=_("%(flag)s 起始日期") % {"flag": label}, required=False, widget=DATE
            )
        if sensitive_allowed:
            self.fields["sensitive"] = forms.MultipleChoiceField(
                label=_("特殊人群"),
                choices=SensitiveGroup.choices,
                required=False,
                widget=forms.CheckboxSelectMultiple,
                help_text=_("加密保存，仅有权限的角色可见"),
            )
        self.editing = masked is not None
        if masked is not None:
            # Editing never shows (or needs) the stored identifiers: empty keeps them.
            for field in ("id_number", "phone"):
                self.fields[field].required = False
                self.fields[field].widget.attrs["placeholder"] = masked.get(field) or ""
                self.fields[field].help_text = KEEP_HINT

    def clean_household_no(self) -> Any:
        return self._lookup("household_no", household_by_no_for_user)

    def clean_house_code(self) -> Any:
        return self._lookup("house_code", house_by_code_for_user)

    def service_fields(self) -> dict[str, Any]:
        """Keyword arguments of ``person_create`` / the changes of ``person_update``."""
        d = self.cleaned_data
        chosen = set(d.get("flags") or [])
        fields: dict[str, Any] = {
            "name": d["name"],
            "id_type": d["id_type"],
            "sex": d["sex"] or None,
            "birth_date": d["birth_date"],
            "ethnicity": d["ethnicity"] or "",
            "registered_address": d["registered_address"],
            "current_address": d["current_address"],
            "registration_matches": d["registration_matches"],
            "relation": d["relation"] or "",
            "flags": {flag: flag in chosen for flag, _label in EDITABLE_FLAGS},
            "flag_since": {
                flag: d[f"since_{flag}"].isoformat() for flag in chosen if d.get(f"since_{flag}")
            },
            "arrival_date": d["arrival_date"],
            "residence_permit_until": d["residence_permit_until"],
            "disability_grade": d["disability_grade"],
            "household": d["household_no"],
            "house": d["house_code"],
        }
        if self.editing:
            # Sex and birth date follow the (stored or new) resident ID unless edited by hand.
            for derived in ("sex", "birth_date"):
                if derived not in self.changed_data:
                    fields.pop(derived)
        if d["id_number"] or not self.editing:
            fields["id_number"] = d["id_number"]
        if d["phone"] or not self.editing:
            fields["phone"] = d["phone"]
        return fields


class HouseholdForm(RegisterForm):
    grid = GridField()
    household_no = _text(_("户号"), 32, required=True)
    house_code = _text(_("居住房屋编码"), 40, help_text=_("已登记的房屋编码，可不填"))
    address = _text(_("住址"), 255, help_text=_("不填则用房屋地址"))
    is_collective = forms.BooleanField(label=_("集体户"), required=False)

    def clean_house_code(self) -> Any:
        return self._lookup("house_code", house_by_code_for_user)


# --- 地 ------------------------------------------------------------------------------------------
class BuildingForm(RegisterForm):
    grid = GridField()
    code = _text(_("楼栋编码"), 32, required=True)
    name = _text(_("楼栋名称"), 100, required=True)
    address = _text(_("标准地址"), 255, required=True)
    floors = forms.IntegerField(label=_("地上层数"), min_value=0, max_value=300, required=False)
    build_year = forms.IntegerField(
        label=_("建成年份"), min_value=1000, max_value=2100, required=False
    )
    lon = forms.FloatField(label=_("经度(WGS-84)"), min_value=-180, max_value=180, required=False)
    lat = forms.FloatField(label=_("纬度(WGS-84)"), min_value=-90, max_value=90, required=False)


class HouseForm(RegisterForm):
    building_code = _text(_("楼栋编码"), 32, required=True)
    code = _text(_("房屋编码"), 40, required=True)
    unit = _text(_("单元"), 16)
    floor = forms.IntegerField(label=_("楼层"), min_value=-10, max_value=300, required=False)
    room = _text(_("房号"), 16, required=True)
    use = forms.ChoiceField(label=_("房屋用途"), choices=HouseUse.choices)
    area_m2 = forms.DecimalField(
        label=_("建筑面积(平方米)"),
        min_value=0,
        max_value=9_999_999,
        decimal_places=2,
        required=False,
    )
    ownership = forms.ChoiceField(label=_("产权性质"), choices=Ownership.choices)
    owner_name = _text(_("产权人/单位名称"), 100)
    rental_status = forms.ChoiceField(label=_("居住状态"), choices=RentalStatus.choices)
    hazards = forms.MultipleChoiceField(
        label=_("隐患"), choices=Hazard.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    hazard_note = _text(_("隐患说明"), 255)

    def clean_building_code(self) -> Any:
        return self._lookup("building_code", building_by_code_for_user)

    def service_fields(self) -> dict[str, Any]:
        d = dict(self.cleaned_data)
        d["building"] = d.pop("building_code")
        return d


class TenancyForm(RegisterForm):
    tenant = _text(
        _("租户证件号码或手机号"),
        32,
        required=True,
        help_text=_("须是已登记的人员(完整号码精确查找)"),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    start_date = forms.DateField(label=_("起租日期"), required=False, widget=DATE)
    end_date = forms.DateField(label=_("到期日期"), required=False, widget=DATE)
    note = _text(_("备注"), 255)

    def clean_tenant(self) -> Any:
        text = self.cleaned_data["tenant"].replace(" ", "").upper()
        # Only an exact ID number or phone (blind index), never a name prefix.
        exact = len(text) >= 7 and text[:-1].isdigit()
        matches = list(person_list_for_user(self.user, PersonFilters(q=text))[:2]) if exact else []
        if len(matches) != 1:
            raise forms.ValidationError(_("未找到该人员，请先登记人口信息"))
        return matches[0]


class TenancyEndForm(forms.Form):
    end_date = forms.DateField(label=_("退租日期"), required=False, widget=DATE)


# --- 组织 ----------------------------------------------------------------------------------------
class OrganisationForm(RegisterForm):
    grid = GridField()
    credit_code = _text(_("统一社会信用代码"), 18, required=True)
    name = _text(_("名称"), 200, required=True)
    kind = forms.ChoiceField(label=_("类型"), choices=OrgKind.choices)
    industry = _text(_("行业"), 64)
    address = _text(_("地址"), 255, required=True)
    legal_representative = _text(_("法定代表人/负责人"), 64)
    contact_name = _text(_("联系人"), 64)
    contact_phone = _text(_("联系电话"), 32, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    employees = forms.IntegerField(
        label=_("从业人数"), min_value=0, max_value=10_000_000, required=False
    )
    lon = forms.FloatField(label=_("经度(WGS-84)"), min_value=-180, max_value=180, required=False)
    lat = forms.FloatField(label=_("纬度(WGS-84)"), min_value=-90, max_value=90, required=False)

    def __init__(self, *args: Any, user: Any, masked_phone: str | None = None, **kw: Any) -> None:
        super().__init__(*args, user=user, **kw)
        self.editing = masked_phone is not None
        if self.editing:
            self.fields["contact_phone"].widget.attrs["placeholder"] = masked_phone or ""
            self.fields["contact_phone"].help_text = KEEP_HINT
            self.fields["is_active"] = forms.BooleanField(label=_("存续"), required=False)

    def service_fields(self) -> dict[str, Any]:
        d = dict(self.cleaned_data)
        if self.editing and not d["contact_phone"]:
            d.pop("contact_phone")
        return d


# --- 物 ------------------------------------------------------------------------------------------
class ComponentForm(RegisterForm):
    grid = GridField()
    identifier = _text(
        _("部件标识码"),
        17,
        required=True,
        help_text=_("17位：区县代码6位 + 部件小类代码5位 + 流水号6位"),
    )
    class_code = _text(_("部件小类代码"), 5, required=True)
    class_name = _text(_("部件名称"), 64, required=True)
    name = _text(_("名称/描述"), 100)
    address = _text(_("位置描述"), 255)
    lon = forms.FloatField(label=_("经度(WGS-84)"), min_value=-180, max_value=180)
    lat = forms.FloatField(label=_("纬度(WGS-84)"), min_value=-90, max_value=90)
    managing_department = _text(_("主管部门"), 100)
    owner_unit = _text(_("权属单位"), 100)
    maintenance_unit = _text(_("养护单位"), 100)

    def __init__(self, *args: Any, user: Any, creating: bool = True, **kw: Any) -> None:
        super().__init__(*args, user=user, **kw)
        if creating:
            self.fields["status"] = forms.ChoiceField(
                label=_("状态"), choices=ComponentStatus.choices, initial=ComponentStatus.INTACT
            )


class ComponentStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("新状态"), choices=ComponentStatus.choices)
    reason = forms.CharField(
        label=_("变更原因"),
        min_length=2,
        max_length=200,
        error_messages={"min_length": _("请填写变更原因")},
    )
