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

# The loops the tags replace, as they would stand in members/activity_detail.html and
# dashboard.html: each amount under the column of its stage, with what the entry does.
ACTIVITY_LOOP = """{% load money %}
  {% for entry in page.object_list %}
    <tr>
      <td>{{ entry.created_at|date:"SHORT_DATE_FORMAT" }}</td>
      <td>{{ entry.get_kind_display }}</td>
      <td>{{ entry.reference }}</td>
      <td>{{ entry.description }}</td>
      <td>{{ entry.movement }}</td>
      {% if entry.stage == "guaranteed" %}<td class="number {{ entry.amount|signed_class }}">{{ entry.amount|euro }}</td>
      <td class="number"></td>
      <td class="number"></td>{% elif entry.stage == "planned" %}<td class="number"></td>
      <td class="number {{ entry.amount|signed_class }}">{{ entry.amount|euro }}</td>
      <td class="number"></td>{% else %}<td class="number"></td>
      <td class="number"></td>
      <td class="number {{ entry.amount|signed_class }}">{{ entry.amount|euro }}</td>{% endif %}
    </tr>
  {% endfor %}
"""  # noqa: E501
DASHBOARD_LOOP = """{% load money %}
    {% for entry in recent_entries %}
      <tr>
        <td>{{ entry.created_at|date:"SHORT_DATE_FORMAT" }}</td>
        <td><a href="{% url 'members:activity_detail' entry.activity_id %}">{{ entry.activity.name }}</a></td>
        <td>{{ entry.get_kind_display }} <span class="muted">{{ entry.reference }}</span></td>
        <td>{{ entry.movement }}</td>
        {% if entry.stage == "guaranteed" %}<td class="number {{ entry.amount|signed_class }}">{{ entry.amount|euro }}</td>
        <td class="number"></td>
        <td class="number"></td>{% elif entry.stage == "planned" %}<td class="number"></td>
        <td class="number {{ entry.amount|signed_class }}">{{ entry.amount|euro }}</td>
        <td class="number"></td>{% else %}<td class="number"></td>
        <td class="number"></td>
        <td class="number {{ entry.amount|signed_class }}">{{ entry.amount|euro }}</td>{% endif %}
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
            stage=list(LedgerStage)[index % 3],
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


# (kind, stage, amount, what the entry does) of a contract's life and an invoice's, as the
# services post them: approval commits the salary cost, the payslip releases it and pays it.
LIFE = [
    (LedgerEntryKind.CLIENT_INCOME, LedgerStage.PLANNED, "2500.00", "Income expected"),
    (LedgerEntryKind.CLIENT_INCOME, LedgerStage.PLANNED, "-2500.00", "Income no longer expected"),
    (LedgerEntryKind.CLIENT_INCOME, LedgerStage.AVAILABLE, "2500.00", "Money in"),
    (LedgerEntryKind.COOPERATIVE_FEE, LedgerStage.AVAILABLE, "-162.50", "Money out"),
    (LedgerEntryKind.SALARY_COST, LedgerStage.PLANNED, "-2006.60", "Cost committed"),
    (LedgerEntryKind.SALARY_COST, LedgerStage.PLANNED, "2006.60", "Commitment released"),
    (LedgerEntryKind.SALARY_COST, LedgerStage.AVAILABLE, "-2006.60", "Money out"),
]


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", [words for *_, words in LIFE]),
        (
            "fr",
            [
                "Revenu attendu",
                "Revenu plus attendu",
                "Entrée d’argent",
                "Sortie d’argent",
                "Coût engagé",
                "Engagement libéré",
                "Sortie d’argent",
            ],
        ),
    ],
)
def test_each_entry_says_what_it_does_under_the_column_of_its_stage(
    client, member, activity, language, words
):
    start = timezone.make_aware(datetime.datetime(2026, 3, 2, 10, 0), datetime.UTC)
    for minutes, (kind, stage, amount, _words) in enumerate(LIFE):
        services.post_ledger_entry(
            activity=activity,
            kind=kind,
            stage=stage,
            amount=Decimal(amount),
            reference="C-1",
            description="",
            author=None,
            now=start + datetime.timedelta(minutes=minutes),
        )
    client.force_login(member.user)
    client.cookies["coop_language"] = language
    page = client.get(f"/activities/{activity.pk}/").content.decode()
    euro = {
        "en": {"2006.60": "2,006.60\xa0€", "2500.00": "2,500.00\xa0€", "162.50": "162.50\xa0€"},
        "fr": {
            "2006.60": "2\xa0006,60\xa0€",
            "2500.00": "2\xa0500,00\xa0€",
            "162.50": "162,50\xa0€",
        },
    }[language]
    # Newest first: the last entry posted heads the table.
    for (_kind, stage, amount, _words), said in zip(reversed(LIFE), reversed(words), strict=True):
        sign, figure = ("-", amount[1:]) if amount.startswith("-") else ("", amount)
        cell = f'<td class="number {"negative" if sign else "positive"}">{sign}{euro[figure]}</td>'
        empty = '<td class="number"></td>'
        cells = "\n      ".join(
            cell if stage == column else empty
            for column in (LedgerStage.GUARANTEED, LedgerStage.PLANNED, LedgerStage.AVAILABLE)
        )
        assert f"<td>{said}</td>\n      {cells}" in page
