"""Import jobs and exports: the services behind the import pages, the CLI and the API.

A job stores the uploaded workbook, runs ``excel.importer.run_import`` (in the request for small
files, otherwise in the background worker), records progress as it validates, keeps the row
report, and deletes the workbook when it has run (it holds personal data)."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.accounts.permissions import has_perm_anywhere, has_perm_at, path_filter, scope_paths
from wangge.core.audit import audit_log
from wangge.core.exceptions import PermissionDenied, ValidationError

from . import crypto
from .choices import DuplicatePolicy, ImportKind, ImportStatus
from .excel.columns import COLUMNS
from .excel.importer import IMPORT_PERMISSION, run_import
from .excel.writer import rows_to_xlsx
from .identity import mask_id_number, mask_phone
from .models import ImportJob, Person
from .selectors import (
    PersonFilters,
    component_list_for_user,
    house_list_for_user,
    organisation_list_for_user,
    person_list_for_user,
)
from .services import O_PHONE, P_ID, P_PHONE, person_sensitive

log = logging.getLogger(__name__)
MAX_UPLOAD_BYTES = 50 * 1024 * 1024


def can_import(user: Any, kind: str) -> bool:
    return has_perm_anywhere(user, "registers.import_registers") and has_perm_anywhere(
        user, IMPORT_PERMISSION[kind]
    )


def import_job_create(
    *,
    actor: Any,
    kind: str,
    file_name: str,
    content: bytes,
    dry_run: bool,
    on_duplicate: str = DuplicatePolicy.ERROR,
) -> ImportJob:
    """Store the upload as a job and run it now (small file) or queue it (large file)."""
    if kind not in ImportKind.values:
        raise ValidationError(_("台账类型无效"))
    if not can_import(actor, kind):
        raise PermissionDenied(_("您无权导入该台账"))
    if on_duplicate not in DuplicatePolicy.values:
        raise ValidationError(_("重复记录处理方式无效"))
    if not content:
        raise ValidationError(_("请选择文件"), errors={"file": [str(_("请选择文件"))]})
    if len(content) > MAX_UPLOAD_BYTES:
        raise ValidationError(_("文件过大"), errors={"file": [str(_("文件过大"))]})
    if not file_name.lower().endswith(".xlsx"):
        raise ValidationError(
            _("请上传 Excel (.xlsx) 文件"), errors={"file": [str(_("请上传 .xlsx 文件"))]}
        )
    job = ImportJob(
        kind=kind,
        dry_run=dry_run,
        on_duplicate=on_duplicate,
        file_name=file_name[-255:],
        created_by=actor,
    )
    job.file.save("upload.xlsx", ContentFile(content), save=False)
    job.save()
    if len(content) <= settings.REGISTERS_SYNC_IMPORT_MAX_BYTES:
        import_job_run(job.pk)
        job.refresh_from_db()
    else:
        from .tasks import run_import_job

        job.message = str(_("已排队，等待后台处理"))
        job.save(update_fields=["message"])
        transaction.on_commit(lambda: run_import_job.enqueue(job.pk))
    return job


def import_job_run(job_id: int) -> ImportJob:
    """Run a stored job (in the worker or inline). Never raises for bad input: the outcome,
    including "the file could not be read", goes into the job."""
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    if job.status not in (ImportStatus.PENDING,):
        return job
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.RUNNING, started_at=timezone.now()
    )

    def progress(done: int, total: int, phase: str) -> None:
        message = _("正在写入…") if phase == "writing" else _("正在校验…")
        ImportJob.objects.filter(pk=job.pk).update(
            processed_rows=done, total_rows=total, message=str(message)
        )

    status, message = ImportStatus.DONE, ""
    result = None
    try:
        with job.file.open("rb") as handle:
            result = run_import(
                actor=job.created_by,
                kind=job.kind,
                source=handle,
                dry_run=job.dry_run,
                on_duplicate=job.on_duplicate,
                progress=progress,
                job_id=job.pk,
            )
        if not result.ok:
            status = ImportStatus.FAILED
            message = str(_("有 {n} 处错误，未导入任何数据")).format(n=result.error_count)
        elif job.dry_run:
            message = str(_("试运行通过：将新增 {c} 条、更新 {u} 条")).format(
                c=result.created, u=result.updated
            )
        else:
            message = str(_("导入完成：新增 {c} 条、更新 {u} 条")).format(
                c=result.created, u=result.updated
            )
    except ValidationError as exc:
        status, message = ImportStatus.FAILED, exc.message
    except Exception:  # a crash must still end the job visibly
        log.exception("import job %s crashed", job.pk)
        status, message = ImportStatus.CRASHED, str(_("导入异常中止，未写入任何数据"))
    fields: dict[str, Any] = {
        "status": status,
        "message": message[:255],
        "finished_at": timezone.now(),
    }
    if result is not None:
        fields.update(
            total_rows=result.total,
            processed_rows=result.total,
            created_count=result.created,
            updated_count=result.updated,
            error_count=result.error_count,
            errors=[e.as_dict() for e in result.errors],
        )
    ImportJob.objects.filter(pk=job.pk).update(**fields)
    # The workbook holds personal data: keep only the report.
    if job.file:
        job.file.delete(save=False)
        ImportJob.objects.filter(pk=job.pk).update(file="")
    job.refresh_from_db()
    return job


# --- exports ------------------------------------------------------------------------------------
def _yes(value: bool) -> str:
    return "是" if value else "否"


def people_export(
    *, actor: Any, filters: PersonFilters | None = None, reveal: bool = False, reason: str = ""
) -> tuple[bytes, int]:
    """People in the actor's export area as a workbook in the template's format.

    Identifiers are masked unless ``reveal`` (needs ``registers.reveal_pii`` where the person
    lives, and a reason); special groups only where the actor holds ``view_sensitive``. Every
    export is audited with its row count and whether it was unmasked."""
    paths = scope_paths(actor, "registers.export_person")
    if paths == []:
        raise PermissionDenied(_("您无权导出人口信息"))
    reason = (reason or "").strip()
    if reveal and len(reason) < 2:
        raise ValidationError(_("导出完整证件号码需填写事由"), errors={"reason": [_("请填写事由")]})
    qs = person_list_for_user(actor, filters)
    if paths is not None:
        qs = qs.filter(path_filter("region_path", paths))
    rows = []
    revealed = 0
    for person in qs.select_related("household").iterator(chunk_size=2000):
        rows.append(_person_row(actor, person, reveal))
        if reveal and has_perm_at(actor, "registers.reveal_pii", person.region_path):
            revealed += 1
    with transaction.atomic():
        audit_log(
            actor=actor,
            action="registers.export.people",
            object_type="registers.person",
            object_repr=f"{len(rows)} people",
            after={
                "rows": len(rows),
                "unmasked_rows": revealed,
                "reason": reason[:200],
                "filters": vars(filters) if filters else {},
            },
        )
    return rows_to_xlsx(ImportKind.PEOPLE, rows), len(rows)


def _person_row(actor: Any, person: Person, reveal: bool) -> list[Any]:
    id_number = crypto.decrypt(person.id_number_enc, P_ID)
    phone = crypto.decrypt(person.phone_enc, P_PHONE)
    if not (reveal and has_perm_at(actor, "registers.reveal_pii", person.region_path)):
        id_number, phone = mask_id_number(id_number), mask_phone(phone)
    groups = ""
    if has_perm_at(actor, "registers.view_sensitive", person.region_path):
        from .choices import SensitiveGroup

        labels = dict(SensitiveGroup.choices)
        groups = "、".join(str(labels[g]) for g in sorted(person_sensitive(person)) if g in labels)
    values = {
        "grid": person.grid.code,
        "name": person.name,
        "id_type": person.get_id_type_display(),
        "id_number": id_number,
        "sex": person.get_sex_display(),
        "birth_date": person.birth_date.isoformat() if person.birth_date else "",
        "ethnicity": person.ethnicity,
        "phone": phone,
        "household_no": person.household.household_no if person.household else "",
        "relation": person.get_relation_display() if person.relation else "",
        "registered_address": person.registered_address,
        "current_address": person.current_address,
        "registration_matches": _yes(person.registration_matches),
        "floating": _yes(person.is_floating),
        "arrival_date": person.arrival_date.isoformat() if person.arrival_date else "",
        "residence_permit_until": (
            person.residence_permit_until.isoformat() if person.residence_permit_until else ""
        ),
        "left_behind": _yes(person.is_left_behind),
        "elderly_alone": _yes(person.is_elderly_alone),
        "disabled": _yes(person.is_disabled),
        "disability_grade": person.disability_grade,
        "low_income": _yes(person.is_low_income),
        "veteran": _yes(person.is_veteran),
        "special_groups": groups,
    }
    return [str(values[c.key]) for c in COLUMNS[ImportKind.PEOPLE]]


def register_export(*, actor: Any, kind: str, grid: str | None = None) -> tuple[bytes, int]:
    """Houses, organisations or components in the actor's area (contact phones masked)."""
    from django.utils import translation

    rows: list[list[Any]] = []
    with translation.override("zh-hans"):
        if kind == ImportKind.HOUSES:
            for h in house_list_for_user(actor, grid).iterator(chunk_size=2000):
                rows.append(
                    [
                        h.grid.code, h.building.code, h.building.name, h.building.address,
                        h.unit, h.floor if h.floor is not None else "", h.room, h.code,
                        h.get_use_display(), str(h.area_m2 or ""), h.get_ownership_display(),
                        h.owner_name, h.get_rental_status_display(), _hazard_labels(h.hazards),
                        h.lon if h.lon is not None else "", h.lat if h.lat is not None else "",
                    ]
                )  # fmt: skip
        elif kind == ImportKind.ORGANISATIONS:
            for o in organisation_list_for_user(actor, grid).iterator(chunk_size=2000):
                rows.append(
                    [
                        o.grid.code, o.credit_code, o.name, o.get_kind_display(), o.industry,
                        o.address, o.legal_representative, o.contact_name,
                        mask_phone(crypto.decrypt(o.contact_phone_enc, O_PHONE)),
                        o.employees if o.employees is not None else "",
                        o.lon if o.lon is not None else "", o.lat if o.lat is not None else "",
                    ]
                )  # fmt: skip
        elif kind == ImportKind.COMPONENTS:
            for c in component_list_for_user(actor, grid).iterator(chunk_size=2000):
                rows.append(
                    [
                        c.grid.code, c.identifier, c.class_code, c.class_name, c.name,
                        c.address, c.lon, c.lat, c.get_status_display(),
                        c.managing_department, c.owner_unit, c.maintenance_unit,
                    ]
                )  # fmt: skip
        else:
            raise ValidationError(_("台账类型无效"))
        with transaction.atomic():
            audit_log(
                actor=actor,
                action=f"registers.export.{kind}",
                object_type=f"registers.{kind}",
                object_repr=f"{len(rows)} rows",
                after={"rows": len(rows), "grid": grid or ""},
            )
        return rows_to_xlsx(kind, rows), len(rows)


def _hazard_labels(values: list[str]) -> str:
    from .choices import Hazard

    labels = dict(Hazard.choices)
    return "、".join(str(labels.get(v, v)) for v in values)
