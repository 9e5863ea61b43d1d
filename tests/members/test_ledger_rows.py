"""The ledger tables' rows written in Python are the markup the template loops wrote."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from members import services
from members.models import LedgerEntryKind, LedgerStage
from members.selectors import ledger_entries_of, recent_ledger_entries_for

# The loops the tags replace, as they stood in members/activity_detail.html and dashboard.html.
ACTIVITY_LOOP = """{% load money %}
  {% for entry in page.object_list %}
    <tr>
      <td>{{ entry.created_at|date:"SHORT_DATE_FORMAT" }}</td>
      <td>{{ entry.get_kind_display }}</td>
      <td>{{ entry.reference }}</td>
      <td>{{ entry.description }}</td>
      <td>{{ entry.get_stage_display }}</td>
      <td class="number {{ entry.amount|signed_class }}">{{ entry.amount|euro }}</td>
    </tr>
  {% endfor %}
"""
DASHBOARD_LOOP = """{% load money %}
    {% for entry in recent_entries %}
      <tr>
        <td>{{ entry.created_at|date:"SHORT_DATE_FORMAT" }}</td>
        <td><a href="{% url 'members:activity_detail' entry.activity_id %}">{{ entry.activity.name }}</a></td>
        <td>{{ entry.get_kind_display }} <span class="muted">{{ entry.reference }}</span></td>
        <td>{{ entry.get_stage_display }}</td>
        <td class="number {{ entry.amount|signed_class }}">{{ entry.amount|euro }}</td>
      </tr>
    {% endfor %}
"""  # noqa: E501


@pytest.fixture
def entries(activity, other_activity, staff):
    """Entries of every kind and stage, negative and large amounts, text to escape, and times
    on both sides of midnight in Brussels."""
    activity.name = "Illustration & <b>design</b>"
    activity.save(update_fields=["name"])
    moment = timezone.make_aware(datetime.datetime(2026, 3, 1, 23, 30), datetime.UTC)
    amounts = [Decimal("1234567.89"), Decimal("-0.05"), Decimal("-1500.00"), Decimal("12")]
    kinds = list(LedgerEntryKind)
    for index in range(16):
        services.post_ledger_entry(
            activity=activity if index % 5 else other_activity,
            kind=kinds[index % len(kinds)],
            stage=list(LedgerStage)[index % 2],
            amount=amounts[index % len(amounts)],
            reference=f"INV-{index} <&>\"'",
            description="Café « Zoë » <script>" if index % 3 else "",
            author=staff if index % 2 else None,
            now=moment + datetime.timedelta(hours=7 * index),
        )


@pytest.mark.parametrize("language", ["fr", "nl", "en"])
def test_activity_ledger_rows_are_the_template_loops_markup(entries, activity, language):
    rows = list(ledger_entries_of(activity).order_by("-created_at", "-pk"))
    assert {row.stage for row in rows} == set(LedgerStage)
    with translation.override(language):
        expected = Template(ACTIVITY_LOOP).render(Context({"page": {"object_list": rows}}))
        written = Template("{% load ledger %}\n  {% ledger_rows page.object_list %}\n").render(
            Context({"page": {"object_list": rows}})
        )
    assert written == expected
    assert 'class="number negative"' in written and "&lt;&amp;&gt;&quot;&#x27;" in written


@pytest.mark.parametrize("language", ["fr", "nl", "en"])
def test_dashboard_rows_are_the_template_loops_markup(entries, activity, other_activity, language):
    rows = recent_ledger_entries_for([activity.pk, other_activity.pk], limit=16)
    assert {row.activity_id for row in rows} == {activity.pk, other_activity.pk}
    with translation.override(language):
        expected = Template(DASHBOARD_LOOP).render(Context({"recent_entries": rows}))
        written = Template(
            "{% load ledger %}\n    {% recent_ledger_rows recent_entries %}\n"
        ).render(Context({"recent_entries": rows}))
    assert written == expected
    assert "Illustration &amp; &lt;b&gt;design&lt;/b&gt;" in written


def test_activity_page_shows_the_rows(client, member, activity, entries):
    client.force_login(member.user)
    page = client.get(f"/activities/{activity.pk}/").content.decode()
    assert page.count("<tr>") == 1 + 12
    assert "<td>INV-14 &lt;&amp;&gt;&quot;&#x27;</td>" in page


def test_activity_page_reads_no_author(client, member, activity, entries):
    client.force_login(member.user)
    with CaptureQueriesContext(connection) as queries:
        client.get(f"/activities/{activity.pk}/")
    ledger = [query["sql"] for query in queries if 'FROM "members_ledgerentry"' in query["sql"]]
    assert len(ledger) == 1 and "members_user" not in ledger[0]
