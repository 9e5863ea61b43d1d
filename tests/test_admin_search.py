"""Staff search by a part of a name through the columns' trigram indexes (coop.lookups)."""

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext

from invoicing.models import Client
from members.models import Activity, Member, User


@pytest.fixture
def admin_client_for_staff(client, staff):
    TOTP.activate(staff, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    client.force_login(staff)
    return client


def test_admin_substring_searches_use_ilike_which_the_trigram_indexes_answer(
    admin_client_for_staff, member, activity
):
    for model, term in [(Member, "eete"), (User, "ana@"), (Activity, "llustr"), (Client, "zz")]:
        fields = admin.site._registry[model].search_fields
        assert fields and all(field.endswith("__contains_any_case") for field in fields), model
        url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/?q={term}"
        with CaptureQueriesContext(connection) as queries:
            response = admin_client_for_staff.get(url)
        assert response.status_code == 200
        searching = [q["sql"] for q in queries if f"%{term}%" in q["sql"].lower()]
        assert searching and all("ILIKE" in sql and "UPPER(" not in sql for sql in searching)
    found = admin_client_for_staff.get("/admin/members/member/?q=EETER").content.decode()
    assert member.legal_name in found  # Ana Peeters: any case
    assert "0 members" not in found
    escaped = admin_client_for_staff.get("/admin/members/member/?q=%25").content.decode()
    assert member.legal_name not in escaped  # "%" is a character, not a wildcard


def changelist_rows(browser, model, term: str) -> list:
    url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
    response = browser.get(url, {"q": term})
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


def test_staff_find_a_member_by_national_number_iban_or_e_mail_as_typed(
    admin_client_for_staff, member, other_member
):
    for term in ("85.07.30-033.28", "85073003328", "BE71 0961 2345 6769", "be71096123456769"):
        found = changelist_rows(admin_client_for_staff, Member, term)
        if "BE71" in term.upper():
            # Both test members were given that account: the IBAN finds them both.
            assert set(found) == {member, other_member}
        else:
            assert found == [member]
    assert changelist_rows(admin_client_for_staff, Member, "ANA@coop.test") == [member]
    # A number that is not a national register number finds nobody, and is no error.
    assert changelist_rows(admin_client_for_staff, Member, "85073003329") == []


def test_staff_find_clients_and_buyers_by_vat_number_as_typed(admin_client_for_staff, member, db):
    from invoicing.models import Buyer
    from invoicing.services.clients import create_client

    client, _created = create_client(
        owner=member.user,
        kind="company",
        name="Théâtre des Galeries SA",
        street="Galerie du Roi 32",
        postal_code="1000",
        city="Bruxelles",
        country="BE",
        email="compta@galeries.example",
        language="fr",
        vat_number="BE1000000021",
    )
    for term in ("BE 1000.000.021", "be1000000021"):
        assert changelist_rows(admin_client_for_staff, Client, term) == [client]
        assert [
            buyer.vat_number for buyer in changelist_rows(admin_client_for_staff, Buyer, term)
        ] == ["BE1000000021"]
    assert changelist_rows(admin_client_for_staff, Client, "BE0403019261") == []
    assert changelist_rows(admin_client_for_staff, Client, "Galeries") == [client]


def test_staff_find_a_bank_line_by_the_payer_iban(admin_client_for_staff, staff):
    import datetime
    from decimal import Decimal

    from invoicing.models import BankStatement, BankStatementLine

    statement = BankStatement.objects.create(
        account_iban="BE71096123456769", statement_id="2026-1", imported_by=staff
    )

    def line(reference: str, iban: str) -> BankStatementLine:
        return BankStatementLine.objects.create(
            statement=statement,
            booking_date=datetime.date(2026, 3, 2),
            amount=Decimal("10.00"),
            is_credit=True,
            bank_reference=reference,
            counterparty_iban=iban,
        )

    paid = line("A", "BE09734123456757")
    line("B", "BE71096123456769")
    found = changelist_rows(admin_client_for_staff, BankStatementLine, "BE09 7341 2345 6757")
    assert found == [paid]
