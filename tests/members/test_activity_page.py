"""The Activity page, read as one dict through a compiled query, shows what its template showed
from the model instance: the figures as they stood, in each language and for each reader."""

from decimal import Decimal

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from members import selectors, services
from members.models import LedgerEntryKind, LedgerStage
from tests.conftest import make_member

# The head of templates/members/activity_detail.html as it read the Activity instance.
HEAD = """{% load i18n money %}<h1>{{ activity.name }}</h1>
{% if activity.description %}<p>{{ activity.description|linebreaksbr }}</p>{% endif %}
<dl class="figures">
  <div><dt>{% translate "Available" %}</dt><dd class="{{ activity.available_balance|signed_class }}">{{ activity.available_balance|euro }}</dd></div>
  <div><dt>{% translate "Planned" %}</dt><dd class="{{ activity.planned_balance|signed_class }}">{{ activity.planned_balance|euro }}</dd></div>
  <div><dt>{% translate "Guaranteed" %}</dt><dd class="{{ activity.guaranteed_balance|signed_class }}">{{ activity.guaranteed_balance|euro }}</dd></div>
  <div><dt>{% translate "Owner" %}</dt><dd>{{ activity.owner.legal_name }}</dd></div>
  {% if co_members %}<div><dt>{% translate "Shared with" %}</dt><dd>{{ co_members|join:", " }}</dd></div>{% endif %}
</dl>"""  # noqa: E501


def _head(user, pk: int) -> str:
    activity = selectors.activities_visible_to(user).get(pk=pk)
    return Template(HEAD).render(
        Context({"activity": activity, "co_members": activity.co_members.all()})
    )


@pytest.fixture
def shared(member, other_member, staff):
    first_nine = "850730055"
    niss = f"{first_nine}{97 - int(first_nine) % 97:02}"
    third = make_member("zoe@coop.test", legal_name="Zoë <Adams> & co", niss=niss)
    activity = services.create_activity(
        owner=member,
        name="Illustration & <b>design</b>",
        description="Posters\nand <i>books</i>",
        co_members=[third, other_member],
    )
    for stage, amount in [
        (LedgerStage.AVAILABLE, "-12.50"),
        (LedgerStage.PLANNED, "1234.56"),
        (LedgerStage.GUARANTEED, "500.00"),
    ]:
        services.post_ledger_entry(
            activity=activity,
            kind=next(iter(LedgerEntryKind)),
            stage=stage,
            amount=Decimal(amount),
            reference="R-1",
            description="",
            author=staff,
        )
    return activity


@pytest.mark.parametrize("language", ["fr", "nl", "en"])
def test_the_activity_page_shows_what_the_model_template_showed(
    client, member, other_member, staff, shared, language
):
    url = reverse("members:activity_detail", args=[shared.pk])
    client.cookies["coop_language"] = language
    for user in (member.user, other_member.user, staff):
        client.force_login(user)
        page = client.get(url).content.decode()
        with translation.override(language):
            head = _head(user, shared.pk)
        assert head in page
    assert "Lucas Dubois, Zoë &lt;Adams&gt; &amp; co</dd>" in head
    assert 'class="negative"' in head and "Posters<br>and &lt;i&gt;books&lt;/i&gt;" in head


def test_an_activity_without_co_members_nor_entries(client, member, activity):
    client.force_login(member.user)
    client.cookies["coop_language"] = "en"
    page = client.get(reverse("members:activity_detail", args=[activity.pk])).content.decode()
    with translation.override("en"):
        head = _head(member.user, activity.pk)
    assert head in page and "<dt>Shared with" not in head


def test_another_members_activity_is_not_found(client, other_member, activity):
    client.force_login(other_member.user)
    assert client.get(reverse("members:activity_detail", args=[activity.pk])).status_code == 404
    assert selectors.activity_row_of(other_member.user, activity.pk) is None
