"""The time bank (时间银行): a double-entry ledger of service minutes.

Every transfer writes one debit entry (−minutes) on one account and one credit entry (+minutes)
on another, and moves the cached balances by the same amounts in the same transaction, so the
balances always sum to zero. Organisation accounts (a branch's) issue the minutes earned by
completed service orders and take them back when a person exchanges hours for a service; a
person's account may not go below zero. ``timebank_check`` proves all of it from the entries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Count, F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.core.audit import audit_log
from wangge.core.exceptions import ValidationError
from wangge.registers.models import Person

from ..choices import AccountKind, TransferKind
from ..models import PartyOrg, TimeAccount, TimeEntry, TimeTransfer
from ..perms import EXCHANGE_TIME
from .common import require_at, text

MAX_MINUTES = 100_000


def account_for_person(person: Person) -> TimeAccount:
    account = TimeAccount.objects.filter(person=person).first()
    if account is None:
        account = TimeAccount.objects.create(
            kind=AccountKind.PERSON,
            person=person,
            name=person.name,
            region_path=person.region_path,
        )
    return account


def account_for_org(org: PartyOrg) -> TimeAccount:
    account = TimeAccount.objects.filter(org=org).first()
    if account is None:
        account = TimeAccount.objects.create(
            kind=AccountKind.ORGANISATION,
            org=org,
            name=org.name,
            region_path=org.region_path,
        )
    return account


@transaction.atomic
def timebank_transfer(
    *,
    actor: Any,
    debit: TimeAccount,
    credit: TimeAccount,
    minutes: int,
    kind: str,
    reason: str,
    order: Any = None,
    now: datetime | None = None,
    audit: bool = True,
) -> TimeTransfer:
    """Move ``minutes`` from ``debit`` to ``credit``: one transfer, two entries, two balance
    updates — or nothing (ValidationError) when the amount is not a positive whole number, the
    accounts are the same, or a person's account would go below zero."""
    if isinstance(minutes, bool) or not isinstance(minutes, int):
        raise ValidationError(_("分钟数须为整数。"), errors={"minutes": ["integer"]})
    if not 0 < minutes <= MAX_MINUTES:
        raise ValidationError(
            _("分钟数须在1至%(n)d之间。") % {"n": MAX_MINUTES}, errors={"minutes": ["range"]}
        )
    if debit.pk == credit.pk:
        raise ValidationError(_("转出和转入账户不能相同。"), errors={"credit": ["same"]})
    if kind not in TransferKind.values:
        raise ValidationError(_("交易类型无效。"), errors={"kind": ["invalid"]})
    reason = text(reason, field="reason", label=_("事由"), limit=255)
    # Lock both rows in id order (no deadlock between opposite transfers).
    locked = {
        a.pk: a
        for a in TimeAccount.objects.select_for_update()
        .filter(pk__in=[debit.pk, credit.pk])
        .order_by("pk")
    }
    payer = locked[debit.pk]
    if payer.kind == AccountKind.PERSON and payer.balance < minutes:
        raise ValidationError(
            _("时间余额不足：现有%(b)d分钟，需要%(m)d分钟。") % {"b": payer.balance, "m": minutes},
            errors={"minutes": ["insufficient"]},
        )
    now = now or timezone.now()
    transfer = TimeTransfer.objects.create(
        kind=kind,
        minutes=minutes,
        debit=payer,
        credit=locked[credit.pk],
        reason=reason,
        order=order,
        actor=actor if getattr(actor, "pk", None) else None,
        created_at=now,
    )
    TimeEntry.objects.bulk_create(
        [
            TimeEntry(transfer=transfer, account_id=debit.pk, minutes=-minutes, created_at=now),
            TimeEntry(transfer=transfer, account_id=credit.pk, minutes=minutes, created_at=now),
        ]
    )
    TimeAccount.objects.filter(pk=debit.pk).update(balance=F("balance") - minutes)
    TimeAccount.objects.filter(pk=credit.pk).update(balance=F("balance") + minutes)
    debit.refresh_from_db(fields=["balance"])
    credit.refresh_from_db(fields=["balance"])
    if audit:
        audit_log(
            actor=actor,
            action="party.time_transfer",
            obj=transfer,
            region_path=credit.region_path,
            after={
                "kind": kind,
                "minutes": minutes,
                "debit": debit.pk,
                "credit": credit.pk,
                "reason": reason,
            },
        )
    return transfer


@transaction.atomic
def timebank_exchange(
    *, actor: Any, person: Person, org: PartyOrg, minutes: int, reason: str
) -> TimeTransfer:
    """A person spends saved minutes on a service the organisation arranges (兑换)."""
    require_at(actor, EXCHANGE_TIME, org.region_path)
    return timebank_transfer(
        actor=actor,
        debit=account_for_person(person),
        credit=account_for_org(org),
        minutes=minutes,
        kind=TransferKind.EXCHANGE,
        reason=reason,
    )


@dataclass
class LedgerCheck:
    accounts: int
    transfers: int
    entries: int
    total_balance: int
    total_entries: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def timebank_check() -> LedgerCheck:
    """Verify the ledger from its entries: every transfer has exactly its debit and credit of
    the transfer's minutes on the named accounts; each cached balance equals the sum of the
    account's entries; the entries and the balances each sum to zero; no person is overdrawn."""
    problems: list[str] = []
    bad = (
        TimeTransfer.objects.annotate(
            n=Count("entries"),
            debits=Count(
                "entries",
                filter=Q(entries__account=F("debit"), entries__minutes=-F("minutes")),
            ),
            credits=Count(
                "entries",
                filter=Q(entries__account=F("credit"), entries__minutes=F("minutes")),
            ),
        )
        .exclude(n=2, debits=1, credits=1)
        .values_list("pk", "n", "debits", "credits")
    )
    for pk, n, debits, credits in bad[:100]:
        problems.append(
            f"transfer {pk}: {n} entries ({debits} matching debit, {credits} matching credit)"
        )
    sums = dict(
        TimeEntry.objects.values("account").annotate(s=Sum("minutes")).values_list("account", "s")
    )
    total_balance = 0
    accounts = 0
    for pk, kind, balance in TimeAccount.objects.values_list("pk", "kind", "balance"):
        accounts += 1
        total_balance += balance
        if balance != (sums.get(pk) or 0):
            problems.append(
                f"account {pk}: balance {balance} != sum of entries {sums.get(pk) or 0}"
            )
        if kind == AccountKind.PERSON and balance < 0:
            problems.append(f"account {pk}: person account overdrawn ({balance})")
    total_entries = int(TimeEntry.objects.aggregate(s=Sum("minutes"))["s"] or 0)
    if total_entries != 0:
        problems.append(f"entries sum to {total_entries}, not 0")
    if total_balance != 0:
        problems.append(f"balances sum to {total_balance}, not 0")
    return LedgerCheck(
        accounts=accounts,
        transfers=TimeTransfer.objects.count(),
        entries=TimeEntry.objects.count(),
        total_balance=total_balance,
        total_entries=total_entries,
        problems=problems,
    )
