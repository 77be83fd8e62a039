"""The time bank: double entry, balances summing to zero, no lost minutes, and the check."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wangge.core.exceptions import ValidationError
from wangge.party.choices import TransferKind
from wangge.party.models import TimeAccount, TimeEntry, TimeTransfer
from wangge.party.services import (
    account_for_org,
    account_for_person,
    timebank_check,
    timebank_exchange,
    timebank_transfer,
)

from .factories import make_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def accounts(pw, tree):
    orgs = [account_for_org(pw.branch(g)) for g in tree.grids[:2]]
    people = [account_for_person(make_person(tree.grids[0])) for _ in range(3)]
    return orgs + people


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=4),
            st.integers(min_value=0, max_value=4),
            st.one_of(st.integers(min_value=-5, max_value=600), st.just(0)),
        ),
        max_size=15,
    )
)
def test_any_sequence_of_transfers_keeps_the_sum_zero_and_loses_no_minute(accounts, steps):
    """Refused transfers change nothing; accepted ones move exactly their minutes."""
    from django.db import transaction

    with transaction.atomic():
        sid = transaction.savepoint()
        expected = {a.pk: a.balance for a in TimeAccount.objects.all()}
        moved = 0
        for d, c, minutes in steps:
            debit, credit = accounts[d], accounts[c]
            try:
                timebank_transfer(
                    actor=None,
                    debit=debit,
                    credit=credit,
                    minutes=minutes,
                    kind=TransferKind.DONATION,
                    reason="测试",
                    audit=False,
                )
            except ValidationError:
                continue
            expected[debit.pk] -= minutes
            expected[credit.pk] += minutes
            moved += minutes
        actual = dict(TimeAccount.objects.values_list("pk", "balance"))
        assert actual == expected
        assert sum(actual.values()) == 0
        credits = sum(
            e for e in TimeEntry.objects.filter(minutes__gt=0).values_list("minutes", flat=True)
        )
        assert credits == sum(TimeTransfer.objects.values_list("minutes", flat=True)) >= moved
        assert timebank_check().ok
        transaction.savepoint_rollback(sid)


def test_a_person_cannot_overdraw_and_nothing_is_written(accounts):
    org, person = accounts[0], accounts[2]
    with pytest.raises(ValidationError, match="余额不足"):
        timebank_transfer(
            actor=None, debit=person, credit=org, minutes=1, kind="exchange", reason="兑换"
        )
    assert TimeTransfer.objects.count() == 0 and TimeEntry.objects.count() == 0
    with pytest.raises(ValidationError, match="相同"):
        timebank_transfer(actor=None, debit=org, credit=org, minutes=5, kind="service", reason="x")
    with pytest.raises(ValidationError, match="整数"):
        timebank_transfer(
            actor=None, debit=org, credit=person, minutes=1.5, kind="service", reason="x"
        )  # type: ignore[arg-type]


def test_exchange_spends_saved_minutes(pw, tree, accounts):
    from wangge.accounts.tests.factories import make_user

    org = pw.branch(tree.grids[0])
    person_account = accounts[2]
    timebank_transfer(
        actor=None,
        debit=account_for_org(org),
        credit=person_account,
        minutes=120,
        kind="service",
        reason="服务",
    )
    staff = make_user("s", role="community_secretary", region=tree.grids[0])
    timebank_exchange(
        actor=staff, person=person_account.person, org=org, minutes=60, reason="兑换理发"
    )
    person_account.refresh_from_db()
    assert person_account.balance == 60
    assert timebank_check().ok


def test_the_check_command_finds_a_tampered_ledger(accounts):
    org, person = accounts[0], accounts[2]
    timebank_transfer(actor=None, debit=org, credit=person, minutes=30, kind="service", reason="x")
    out = io.StringIO()
    call_command("timebank", "check", stdout=out)
    assert out.getvalue().startswith("OK:")
    # Someone edits a balance directly: the cache no longer matches the entries.
    TimeAccount.objects.filter(pk=person.pk).update(balance=300)
    err = io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("timebank", "check", stdout=io.StringIO(), stderr=err)
    assert exit_info.value.code == 1
    assert "balance 300 != sum of entries 30" in err.getvalue()
    assert "balances sum to 270" in err.getvalue()
    # Someone deletes one side of a transfer.
    TimeAccount.objects.filter(pk=person.pk).update(balance=30)
    TimeEntry.objects.filter(account=org).delete()
    problems = timebank_check().problems
    assert any("1 entries" in p for p in problems)
    assert any("entries sum to 30" in p for p in problems)
