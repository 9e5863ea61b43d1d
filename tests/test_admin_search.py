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
