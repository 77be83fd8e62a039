"""Photos on cases: size and type checked by magic bytes (JPEG, PNG, WebP).

A photo is a file in storage plus an :class:`Attachment` row. The row rolls back with its
transaction; the file does not, so every write happens inside :func:`atomic_with_files`, which
deletes the files written in a block that rolls back. Views that store photos together with a
step (report, handle, sub-task evidence) wrap both in one ``atomic_with_files()`` block."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _

from wangge.accounts.permissions import has_perm_at
from wangge.core.audit import audit_log
from wangge.core.exceptions import NotFound, PermissionDenied, ValidationError

from ..choices import AttachmentKind
from ..models import Attachment, Case
from ..workflow import TRANSITION
from .common import is_department_member

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
log = logging.getLogger("wangge.cases")

# Files written inside the open atomic_with_files blocks of this thread/task: (storage, name)
# per block, innermost last.
_written: ContextVar[tuple[list[tuple[Any, str]], ...]] = ContextVar("_written", default=())


@contextmanager
def atomic_with_files(using: str | None = None) -> Iterator[None]:
    """``transaction.atomic()`` that also undoes the photo files written inside it: on an
    exception they are deleted; on success they are handed to the enclosing block (deleted if
    that one rolls back) or, in the outermost block, kept."""
    frame: list[tuple[Any, str]] = []
    outer = _written.get()
    token = _written.set((*outer, frame))
    try:
        with transaction.atomic(using=using):
            yield
    except BaseException:
        _delete(frame)
        raise
    else:
        if outer:
            outer[-1].extend(frame)
    finally:
        _written.reset(token)


def _remember(storage: Any, name: str) -> None:
    frames = _written.get()
    if frames:
        frames[-1].append((storage, name))


def _delete(files: list[tuple[Any, str]]) -> None:
    for storage, name in files:
        try:
            storage.delete(name)
        except OSError:  # the rollback itself must go on; a leftover file is only logged
            log.exception("could not delete %s after a rollback", name)


def max_bytes() -> int:
    return int(getattr(settings, "CASE_ATTACHMENT_MAX_BYTES", DEFAULT_MAX_BYTES))


def sniff_image(head: bytes) -> tuple[str, str] | None:
    """(content type, extension) of a JPEG/PNG/WebP by its first bytes, else None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg", "jpg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png", "png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp", "webp"
    return None


def _may_attach(actor: Any, case: Case) -> bool:
    if actor is None or getattr(actor, "is_superuser", False):
        return True
    return (
        has_perm_at(actor, TRANSITION, case.region_path)
        or case.assignee_id == actor.pk
        or is_department_member(actor, case.department_id)
        or (case.reporter_id is not None and case.reporter_id == actor.pk)
    )


def attachment_add(*, actor: Any, case: Case, kind: str, content: bytes) -> Attachment:
    """Store one photo on ``case``. Refuses non-images and oversized files; nothing is written
    on error, and the file goes again if the transaction it was written in rolls back."""
    with atomic_with_files():
        return _attachment_add(actor=actor, case=case, kind=kind, content=content)


def _attachment_add(*, actor: Any, case: Case, kind: str, content: bytes) -> Attachment:
    if not _may_attach(actor, case):
        raise PermissionDenied(_("您无权为该事件上传照片。"))
    if kind not in AttachmentKind.values:
        raise ValidationError(_("照片类型无效。"), errors={"kind": [kind]})
    if len(content) > max_bytes():
        raise ValidationError(
            _("照片不能超过%(n)dMB。") % {"n": max_bytes() // (1024 * 1024)},
            errors={"file": ["too_large"]},
        )
    if not content:
        raise ValidationError(_("照片为空。"), errors={"file": ["empty"]})
    sniffed = sniff_image(content[:16])
    if sniffed is None:
        raise ValidationError(
            _("只支持JPEG、PNG或WebP格式的照片。"), errors={"file": ["not_image"]}
        )
    content_type, ext = sniffed
    digest = hashlib.sha256(content).hexdigest()
    attachment = Attachment(
        case=case,
        kind=kind,
        content_type=content_type,
        size=len(content),
        sha256=digest,
        uploaded_by=actor if getattr(actor, "pk", None) else None,
    )
    attachment.file.save(
        f"{case.tracking_code}-{digest[:12]}.{ext}", ContentFile(content), save=False
    )
    _remember(attachment.file.storage, attachment.file.name)
    attachment.save()
    audit_log(
        actor=actor,
        action="cases.attachment_add",
        obj=case,
        after={"attachment": attachment.pk, "kind": kind, "sha256": digest, "size": len(content)},
    )
    return attachment


MAX_PUBLIC_PHOTOS = 6


@transaction.atomic
def attachment_add_public(*, code: str, phone: str, content: bytes) -> Attachment:
    """A reporter without an account adds a photo to their own fresh report, proving who they
    are with the phone number given at reporting (at most six, before acceptance ends)."""
    from ..choices import CaseState
    from ..selectors import NOT_FOUND

    case = Case.objects.filter(tracking_code=(code or "").strip().upper()).first()
    phone = (phone or "").strip()
    if case is None or not phone or case.reporter_phone != phone:
        raise NotFound(NOT_FOUND)
    if case.state not in (CaseState.REPORTED, CaseState.ACCEPTED):
        raise ValidationError(_("事件已在办理中，不能再补充照片。"), errors={"file": ["closed"]})
    if case.attachments.count() >= MAX_PUBLIC_PHOTOS:
        raise ValidationError(
            _("最多上传%(n)d张照片。") % {"n": MAX_PUBLIC_PHOTOS}, errors={"file": ["too_many"]}
        )
    return attachment_add(actor=None, case=case, kind=AttachmentKind.BEFORE, content=content)
