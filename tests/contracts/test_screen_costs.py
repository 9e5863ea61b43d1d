"""What the contract screens show stays the same while they read less: exact API output, the
form's choices, and query counts that do not grow with workers, days or worker forms."""

import datetime

import pytest
from django import forms
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.html import escape
from rest_framework.test import APIClient

from contracts import selectors
from contracts.forms import ContractForm, FormChoices, WorkerForm
from contracts.models import Contract, ContractWorker
from contracts.services.contracts import submit_contract
from invoicing.selectors import clients_visible_to
from members.models import Member
from members.selectors import activities_visible_to
from members.services import create_activity
from tests.conftest import make_member
from tests.contracts.conftest import make_contract, worker
from tests.invoicing.conftest import belgian_client  # noqa: F401 - shared fixture


def _monday() -> datetime.date:
    today = timezone.localdate()
    return today + datetime.timedelta(days=14 - today.weekday())


def _api(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def _worker_member(number: int) -> Member:
    first_nine = f"850730{number:03}"
    niss = f"{first_nine}{97 - int(first_nine) % 97:02}"
    return make_member(f"worker{number}@coop.test", legal_name=f"Worker {number:02}", niss=niss)


def _queries(browser, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = browser.get(url)
    assert response.status_code == 200, url
    return len(captured)


@pytest.fixture
def festival(member, other_member, belgian_client):  # noqa: F811
    """A submitted contract of a shared Activity: two workers, a half day, a history event."""
    shared = create_activity(owner=member, name="Festival", co_members=[other_member])
    start = _monday()
    contract = make_contract(
        member,
        shared,
        client=belgian_client,
        workers=[
            worker(member, wage="410.00", days=[start, start + datetime.timedelta(days=1)]),
            worker(other_member, wage="300.00", days=[start]),
        ],
        today=timezone.localdate(),
    )
    day = contract.workers.get(member=member).days.get(date=start)
    day.portion = "0.5"
    day.save(update_fields=["portion"])
    return submit_contract(user=member.user, contract=contract, today=timezone.localdate())


def test_the_api_shows_a_contract_exactly(member, other_member, festival):
    start = _monday()
    costs = dict(
        ContractWorker.objects.filter(contract=festival).values_list(
            "member_id", "planned_employer_cost"
        )
    )
    event = festival.events.get()
    expected = {
        "pk": festival.pk,
        "reference": festival.reference,
        "status": "submitted",
        "activity": festival.activity_id,
        "client": festival.client_id,
        "title": festival.title,
        "description": "",
        "place": festival.place,
        "kind": "non_artistic",
        "amount_to_invoice": "6000.00",
        "first_work_day": start.isoformat(),
        "last_work_day": (start + datetime.timedelta(days=1)).isoformat(),
        "invoice": None,
        "workers": [
            {
                "member": member.pk,
                "member_name": "Ana Peeters",
                "daily_wage": "410.00",
                "planned_employer_cost": str(costs[member.pk]),
                "days": [
                    {"date": start.isoformat(), "portion": "0.5"},
                    {"date": (start + datetime.timedelta(days=1)).isoformat(), "portion": "1.0"},
                ],
            },
            {
                "member": other_member.pk,
                "member_name": "Lucas Dubois",
                "daily_wage": "300.00",
                "planned_employer_cost": str(costs[other_member.pk]),
                "days": [{"date": start.isoformat(), "portion": "1.0"}],
            },
        ],
        "history": [
            {
                "from_status": "draft",
                "to_status": "submitted",
                "reason": "",
                "created_at": event.created_at.astimezone(timezone.get_current_timezone())
                .isoformat()
                .replace("+00:00", "Z"),
            }
        ],
    }
    api = _api(member.user)
    assert api.get(f"/api/v1/contracts/{festival.pk}/").json() == expected
    listed = api.get("/api/v1/contracts/").json()
    assert (listed["count"], listed["next"], listed["results"]) == (1, None, [expected])

    # A worker no longer on the Activity sees only their own row, in the list too.
    festival.activity.co_members.remove(other_member)
    hired = _api(other_member.user).get("/api/v1/contracts/").json()["results"]
    assert [row["member_name"] for row in hired[0]["workers"]] == ["Lucas Dubois"]
    assert hired[0]["workers"][0] == expected["workers"][1]


def test_api_contract_list_queries_do_not_grow_with_workers_and_days(member, activity):
    api = _api(member.user)
    start = _monday()
    make_contract(member, activity, workers=[worker(member, start=start, count=1)])
    one = _queries(api, "/api/v1/contracts/")
    for week in range(1, 4):
        others = [_worker_member(week * 10 + number) for number in range(2)]
        activity.co_members.add(*others)
        make_contract(
            member,
            activity,
            workers=[
                worker(member, start=start + datetime.timedelta(weeks=week), count=5),
                *(
                    worker(other, start=start + datetime.timedelta(weeks=week), count=3)
                    for other in others
                ),
            ],
        )
    assert _queries(api, "/api/v1/contracts/") == one


def test_contract_detail_queries_do_not_grow_with_workers(client, member, other_member, festival):
    client.force_login(member.user)
    url = reverse("contracts:detail", args=[festival.pk])
    client.get(url)
    with_two = _queries(client, url)
    page = client.get(url).content.decode()
    assert "Ana Peeters" in page and "Lucas Dubois" in page and "Worker 01" not in page
    third = _worker_member(1)
    festival.activity.co_members.add(third)
    ContractWorker.objects.create(
        contract=festival,
        member=third,
        daily_wage="200.00",
        planned_gross="200.00",
        planned_employer_cost="250.00",
    )
    assert _queries(client, url) == with_two
    assert "Worker 01" in client.get(url).content.decode()


def test_the_contract_form_reads_its_choices_once_for_every_worker_form(
    client, member, other_member, festival
):
    festival.status = "draft"
    festival.save(update_fields=["status"])
    client.force_login(member.user)
    edit = reverse("contracts:edit", args=[festival.pk])
    client.get(edit)
    with_three_forms = _queries(client, edit)  # Two workers and an empty row.
    third = _worker_member(2)
    festival.activity.co_members.add(third)
    ContractWorker.objects.create(
        contract=festival,
        member=third,
        daily_wage="200.00",
        planned_gross="200.00",
        planned_employer_cost="250.00",
    )
    assert _queries(client, edit) == with_three_forms
    page = client.get(edit).content.decode()
    assert page.count(f'<option value="{third.pk}" selected>Worker 02</option>') == 1
    assert page.count(">Worker 02</option>") == 4  # Offered in each worker form.


def test_the_contract_form_shows_the_choices_django_would(member, other_member, festival):
    """The ``<select>``s built from ids and names are those of the plain model choice fields."""
    user = member.user
    choices = FormChoices(user)
    ours = ContractForm(initial={"activity": festival.activity}, choices=choices)
    activities = activities_visible_to(user).filter(owner__status=Member.Status.ACTIVE)
    plain = forms.Form()
    plain.fields["activity"] = forms.ModelChoiceField(queryset=activities)
    plain.fields["client"] = forms.ModelChoiceField(
        queryset=clients_visible_to(user).order_by("name", "pk"), required=False
    )
    plain.initial = {"activity": festival.activity}
    for name in ("activity", "client"):
        assert str(ours[name]).replace(' aria-describedby="id_client_helptext"', "") == str(
            plain[name]
        )
    workers = WorkerForm(initial={"member": other_member}, choices=choices)
    plain_worker = forms.Form(initial={"member": other_member})
    plain_worker.fields["member"] = forms.ModelChoiceField(
        queryset=Member.objects.filter(pk__in=[member.pk, other_member.pk]).order_by(
            "legal_name", "pk"
        )
    )
    assert str(workers["member"]) == str(plain_worker["member"])
    assert "selected>Lucas Dubois</option>" in str(workers["member"])


def test_the_detail_page_lists_each_workers_days_in_order(client, member, festival):
    start = _monday()
    client.force_login(member.user)
    client.cookies["django_language"] = "en"
    page = client.get(reverse("contracts:detail", args=[festival.pk])).content.decode()
    with translation.override("en"):
        first, second = (
            formats.date_format(day, "SHORT_DATE_FORMAT")
            for day in (start, start + datetime.timedelta(days=1))
        )
    assert f"<p>{first} (half day), {second}</p>" in page
    assert f"<p>{first}</p>" in page  # Lucas Dubois's one day.


def test_a_workers_days_read_alone_or_with_the_contract_are_the_same(member, festival):
    alone = ContractWorker.objects.get(contract=festival, member=member)
    with_contract = selectors.contract_with_details(Contract.objects.filter(pk=festival.pk)).get()
    (prefetched,) = [row for row in with_contract.workers.all() if row.member_id == member.pk]
    assert hasattr(prefetched, "day_dates") and not hasattr(alone, "day_dates")
    read = [
        [(day.date, day.portion) for day in worker.days_in_order] for worker in (alone, prefetched)
    ]
    start = _monday()
    assert read == [[(start, "0.5"), (start + datetime.timedelta(days=1), "1.0")]] * 2


def test_staff_contract_and_claim_forms_offer_their_own_activities_only(
    client, member, activity, other_member
):
    """Staff draft and claim as members on these pages: everyone's Activities would be a
    select of a hundred thousand rows."""
    other_member.user.is_staff = True
    other_member.user.save(update_fields=["is_staff"])
    client.force_login(other_member.user)
    for url in [reverse("contracts:create"), reverse("contracts:expenses")]:
        response = client.get(url)
        assert response.status_code == 200
        assert f'<option value="{activity.pk}"' not in response.content.decode()


def test_the_contract_forms_compiled_choices_are_the_querysets_it_checks(
    member, other_member, staff, festival, activity, other_activity
):
    """The ``<select>``s are read by queries compiled once per process; a post is checked
    against the querysets: both offer the same rows, for members and for staff editing
    another's contract."""

    def pairs(queryset, label):
        return list(queryset.values_list("pk", label))

    other_member.user.is_staff = True
    other_member.user.save(update_fields=["is_staff"])
    for user, contract in [
        (member.user, None),
        (member.user, festival),
        (other_member.user, None),
        (other_member.user, festival),
        (staff, festival),
    ]:
        choices = FormChoices(user, contract)
        assert choices.activity_choices == pairs(choices.activities, "name")
        assert choices.client_choices == pairs(choices.clients, "name")
        assert choices.member_choices == pairs(choices.members, "legal_name")
    staff_choices = FormChoices(staff, festival)
    assert staff_choices.activity_choices == [(festival.activity_id, "Festival")]
    assert staff_choices.client_choices == [(festival.client_id, festival.client.name)]
    assert FormChoices(staff).member_choices == []
    assert (activity.pk, "Illustration") in FormChoices(member.user).activity_choices


def _serialized(user, page_of: list[int]) -> list[dict]:
    """What DRF's generic serializer writes for these contracts, as the user sees them."""
    from rest_framework.test import APIRequestFactory

    from contracts.api import ContractSerializer

    request = APIRequestFactory().get("/api/v1/contracts/")
    request.user = user
    contracts = selectors.with_worker_visibility(
        selectors.contract_with_workers_and_history(selectors.contracts_visible_to(user)), user
    ).order_by("-first_work_day", "-pk")
    return [
        ContractSerializer(contract, context={"request": request}).data
        for contract in contracts.filter(pk__in=page_of)
    ]


@pytest.mark.parametrize("zone", ["Europe/Brussels", "UTC"])
def test_the_api_writes_contracts_as_the_serializer_does(
    member,
    other_member,
    staff,
    festival,
    belgian_client,  # noqa: F811
    settings,
    zone,
):
    """The list and detail, written from dicts, are the serializer's JSON, key order included:
    for the Activity's members, for a member hired on another's Activity, and for staff."""
    import json

    from contracts.services.contracts import request_changes

    settings.TIME_ZONE = zone
    festival.description = "Set-up <b>&</b> “strike”\nSecond line"
    festival.save(update_fields=["description"])
    request_changes(staff_user=staff, contract=festival, reason="Add the <i>rehearsal</i> day")
    second = make_contract(member, festival.activity, client=belgian_client, title="Encore")
    # A contract whose days were all taken out has no first or last work day.
    Contract.objects.filter(pk=second.pk).update(first_work_day=None, last_work_day=None)
    festival.activity.co_members.remove(other_member)  # other_member is hired only now.
    for user in (member.user, other_member.user, staff):
        api = _api(user)
        listed = api.get("/api/v1/contracts/").json()
        pks = [row["pk"] for row in listed["results"]]
        expected = _serialized(user, pks)
        assert [row["pk"] for row in expected] == pks
        assert json.dumps(listed["results"]) == json.dumps(expected)
        for row in expected:
            detail = api.get(f"/api/v1/contracts/{row['pk']}/").json()
            assert json.dumps(detail) == json.dumps(row)
    # Each of the cases above was met.
    assert len(_serialized(member.user, [festival.pk, second.pk])) == 2
    hired = _serialized(other_member.user, [festival.pk])
    assert [worker["member"] for worker in hired[0]["workers"]] == [other_member.pk]
    reasons = [event["reason"] for event in hired[0]["history"]]
    assert reasons == ["", "Add the <i>rehearsal</i> day"]
    assert _api(other_member.user).get(f"/api/v1/contracts/{second.pk}/").status_code == 404


def test_the_claim_form_offers_the_activities_its_queryset_accepts(
    member, other_member, staff, activity, other_activity
):
    """The choices read through the compiled query are the queryset's, for members and staff."""
    shared = create_activity(owner=other_member, name="A shared one", co_members=[member])
    Member.objects.filter(pk=member.pk).update(status=Member.Status.SUSPENDED)
    other_member.user.is_staff = True
    other_member.user.save(update_fields=["is_staff"])
    for user in (member.user, other_member.user, staff):
        expected = list(selectors.claimable_activities(user).values_list("pk", "name"))
        assert selectors.claimable_activity_choices(user) == expected
    # The suspended owner's own Activity is not offered; the active co-owner's shared one is.
    assert selectors.claimable_activity_choices(member.user) == [(shared.pk, "A shared one")]
    assert activity.pk not in dict(selectors.claimable_activity_choices(other_member.user))


def test_the_edit_page_finds_only_a_contract_the_user_sees(client, member, festival):
    festival.status = "draft"
    festival.save(update_fields=["status"])
    edit = reverse("contracts:edit", args=[festival.pk])
    stranger = _worker_member(7)  # neither on the Activity nor working on the contract
    client.force_login(stranger.user)
    assert client.get(edit).status_code == 404
    client.force_login(member.user)
    page = client.get(edit).content.decode()
    assert f'value="{escape(festival.title)}"' in page
    assert f'<option value="{festival.activity_id}" selected>Festival</option>' in page
    # An id beyond any bigint reaches no query: a 404, not a server error.
    assert client.get(reverse("contracts:edit", args=[2**63])).status_code == 404
