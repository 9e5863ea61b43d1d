"""The contract page, read as dicts through compiled queries, shows what the template showed
with model instances: the sections as they stood, rendered from the models, in each language."""

import datetime

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone, translation

from contracts import selectors
from contracts.models import Contract, ContractAttachment, ContractWorker, DimonaDeclaration
from contracts.services.contracts import request_changes, submit_contract
from members.services import create_activity
from tests.contracts.conftest import make_contract, worker
from tests.invoicing.conftest import belgian_client  # noqa: F401 - shared fixture

# The sections of templates/contracts/contract_detail.html as they read model instances.
DETAILS = """{% load i18n money %}<dl class="details">
  <div><dt>{% translate "Activity" %}</dt><dd>{{ contract.activity.name }}</dd></div>
  <div><dt>{% translate "Client" %}</dt><dd>{{ contract.client.name|default:"—" }}</dd></div>
  <div><dt>{% translate "Kind of work" %}</dt><dd>{{ contract.get_kind_display }}</dd></div>
  <div><dt>{% translate "Place of work" %}</dt><dd>{{ contract.place }}</dd></div>
  <div><dt>{% translate "Amount to invoice (excl. VAT)" %}</dt><dd>{{ contract.amount_to_invoice|euro }}</dd></div>
  {% if contract.description %}<div><dt>{% translate "Description" %}</dt><dd>{{ contract.description|linebreaksbr }}</dd></div>{% endif %}
</dl>"""  # noqa: E501
WORKERS = """{% load i18n money %}<h2>{% translate "Workers" %}</h2>
{% for worker in workers %}
<section class="card">
  <h3>{{ worker.member.legal_name }} · {{ worker.daily_wage|euro }} {% translate "a day" %}</h3>
  <p>{% for day in worker.days_in_order %}{{ day.date|date:"SHORT_DATE_FORMAT" }}{% if day.portion == "0.5" %} ({% translate "half day" %}){% endif %}{% if not forloop.last %}, {% endif %}{% endfor %}</p>
  {% if worker.planned_employer_cost %}<p>{% translate "Planned employer cost" %}: {{ worker.planned_employer_cost|euro }}</p>{% endif %}
  {% for declaration in worker.declarations.all %}
  <p>{% translate "Dimona" %} {{ declaration.get_kind_display|lower }}: {{ declaration.acknowledgement }}</p>
  {% endfor %}
</section>
{% endfor %}

<h2>{% translate "Documents" %}</h2>
{% if contract.attachments.all %}<ul>{% for attachment in contract.attachments.all %}<li><a href="{% url 'contracts:attachment-download' attachment.pk %}">{{ attachment }}</a></li>{% endfor %}</ul>{% endif %}"""  # noqa: E501
HISTORY = """{% load i18n %}<ol class="history">
  {% for event in contract.events.all %}
  <li>{{ event.created_at|date:"SHORT_DATETIME_FORMAT" }} — {{ event.get_to_status_display }}{% if event.actor %} ({{ event.actor.get_full_name }}){% endif %}{% if event.reason %}: {{ event.reason }}{% endif %}</li>
  {% empty %}<li>{% translate "Created, not yet submitted." %}</li>
  {% endfor %}
</ol>"""  # noqa: E501
ACTIONS = """{% load i18n %}{% if contract.invoice %}<a class="button secondary" href="{% url 'invoicing:invoice_detail' contract.invoice.pk %}">{% translate "Open the invoice" %}</a>{% endif %}"""  # noqa: E501


def _monday() -> datetime.date:
    today = timezone.localdate()
    return today + datetime.timedelta(days=14 - today.weekday())


@pytest.fixture
def busy_contract(member, other_member, staff, belgian_client):  # noqa: F811
    """A contract sent back for changes: two workers (a half day), a declaration, two
    attachments and a history whose text needs escaping."""
    shared = create_activity(owner=member, name="Festival <Nuits> & co", co_members=[other_member])
    start = _monday()
    contract = make_contract(
        member,
        shared,
        client=belgian_client,
        description="Set-up <b>&</b> “strike”\nSecond line",
        workers=[
            worker(member, wage="410.00", days=[start, start + datetime.timedelta(days=1)]),
            worker(other_member, wage="300.00", days=[start]),
        ],
        today=timezone.localdate(),
    )
    hired = ContractWorker.objects.get(contract=contract, member=member)
    day = hired.days.get(date=start)
    day.portion = "0.5"
    day.save(update_fields=["portion"])
    for kind, number in [("declaration", "DIM-1 <x>"), ("cancellation", "DIM-2")]:
        DimonaDeclaration.objects.create(
            worker=hired,
            kind=kind,
            start_date=start,
            end_date=start,
            worker_type="OTH",
            joint_committee="200",
            acknowledgement=number,
        )
    for name in ["quote <1> & co.pdf", "plan.png"]:
        ContractAttachment.objects.create(
            contract=contract,
            file=f"contracts/{contract.pk}/{name}",
            content_type="application/pdf",
            size=10,
            uploaded_by=member.user,
        )
    contract = submit_contract(user=member.user, contract=contract, today=timezone.localdate())
    return request_changes(staff_user=staff, contract=contract, reason="Add the <i>rehearsal</i>")


def _sections(user, contract: Contract) -> list[str]:
    read = selectors.with_worker_visibility(
        selectors.contract_with_details(selectors.contracts_visible_to(user)), user
    ).get(pk=contract.pk)
    context = Context({"contract": read, "workers": selectors.workers_shown_to(user, read)})
    return [Template(text).render(context) for text in (DETAILS, WORKERS, HISTORY, ACTIONS)]


@pytest.mark.parametrize("language", ["fr", "nl", "en"])
def test_the_contract_page_shows_what_the_model_template_showed(
    client, member, other_member, staff, busy_contract, language
):
    url = reverse("contracts:detail", args=[busy_contract.pk])
    client.cookies["coop_language"] = language
    seen = {}
    for user in (member.user, staff):
        client.force_login(user)
        page = client.get(url).content.decode()
        with translation.override(language):
            sections = _sections(user, busy_contract)
        for section in sections:
            assert section in page
        seen[user.pk] = sections
    # The sections hold what they are meant to: escaped text, both workers, every row.
    details, workers, history, _actions = seen[member.user.pk]
    assert "Festival &lt;Nuits&gt; &amp; co" in details
    assert "Set-up &lt;b&gt;&amp;&lt;/b&gt; “strike”<br>Second line" in details
    assert workers.count('<section class="card">') == 2
    assert workers.count(": DIM-") == 2 and "DIM-1 &lt;x&gt;" in workers
    assert "quote &lt;1&gt; &amp; co.pdf</a></li><li>" in workers
    assert history.count("<li>") == 2 and "Add the &lt;i&gt;rehearsal&lt;/i&gt;" in history
    assert f"({staff.get_full_name()})" in history


def test_a_hired_worker_sees_their_own_row_and_an_invoiced_contract_its_invoice(
    client, member, other_member, busy_contract
):
    from invoicing.models import Invoice
    from tests.invoicing.conftest import make_draft

    busy_contract.activity.co_members.remove(other_member)
    draft = make_draft(member, busy_contract.activity, busy_contract.client)
    Contract.objects.filter(pk=busy_contract.pk).update(invoice=draft)
    assert Invoice.objects.filter(pk=draft.pk).exists()
    url = reverse("contracts:detail", args=[busy_contract.pk])
    client.cookies["coop_language"] = "fr"
    for user, names in [(other_member.user, ["Lucas Dubois"]), (member.user, None)]:
        client.force_login(user)
        page = client.get(url).content.decode()
        with translation.override("fr"):
            sections = _sections(user, busy_contract)
        for section in sections:
            assert section in page
        if names:
            assert "Ana Peeters" not in sections[1] and "Lucas Dubois" in sections[1]
        assert reverse("invoicing:invoice_detail", args=[draft.pk]) in sections[3]


def test_another_members_contract_is_not_found(client, other_member, busy_contract, settings):
    busy_contract.activity.co_members.remove(other_member)
    ContractWorker.objects.filter(contract=busy_contract, member=other_member).delete()
    client.force_login(other_member.user)
    assert client.get(reverse("contracts:detail", args=[busy_contract.pk])).status_code == 404
    assert selectors.contract_row_of(other_member.user, busy_contract.pk) is None


def test_the_contract_page_estimates_employer_cost_and_the_readers_own_net_pay(
    client, member, other_member, activity
):
    # Ten days at 400.00: 4,000.00 gross, 25 % employer contributions (1,000.00), no work bonus
    # at that gross; the net is the payroll engine's (tests/contracts/test_payroll_engine.py
    # checks it against the published vectors): 4,000.00 − 522.80 social security
    # − 826.70 withholding − 38.51 special contribution.
    activity.co_members.add(other_member)
    contract = make_contract(
        member,
        activity,
        workers=[worker(member), worker(other_member, wage="300.00", count=2)],
    )
    url = reverse("contracts:detail", args=[contract.pk])
    client.cookies["coop_language"] = "fr"
    client.force_login(member.user)
    page = client.get(url).content.decode()
    assert (
        '<th scope="row">Ana Peeters</th>\n'
        '      <td class="number">4\xa0000,00\xa0€</td>\n'
        '      <td class="number">1\xa0000,00\xa0€</td>\n'
        '      <td class="number">5\xa0000,00\xa0€</td>\n'
        '      <td class="number">2\xa0611,99\xa0€</td>'
    ) in page
    # Another worker's net pay is theirs alone.
    assert (
        '<th scope="row">Lucas Dubois</th>\n'
        '      <td class="number">600,00\xa0€</td>\n'
        '      <td class="number">150,00\xa0€</td>\n'
        '      <td class="number">750,00\xa0€</td>\n'
        '      <td class="number">—</td>'
    ) in page
    client.force_login(other_member.user)
    page = client.get(url).content.decode()
    assert '<th scope="row">Ana Peeters</th>\n' in page
    assert '<td class="number">750,00\xa0€</td>\n      <td class="number">—</td>' not in page
