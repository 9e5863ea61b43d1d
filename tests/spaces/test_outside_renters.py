"""A space manager books for a new outside renter, a person or an organisation, described in
the booking form itself: the renter is checked as every client is, then booked for and
invoiced; a refusal of either leaves nothing behind."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from invoicing.models import Client, Invoice
from spaces.errors import BookingError
from spaces.models import Booking
from spaces.services.renters import add_outside_renter
from tests.spaces.test_lookups import booking_data

PERSON = {
    "renter-create": "on",
    "renter-kind": "person",
    "renter-name": "Jan Jansen",
    "renter-street": "Rue Haute 12",
    "renter-postal_code": "1000",
    "renter-city": "Bruxelles",
    "renter-country": "BE",
    "renter-email": "Jan.Jansen@Example.org",
    "renter-language": "nl",
    "renter-vat_number": "",
    "renter-payment_terms_days": "15",
}
ORGANISATION = {
    **PERSON,
    "renter-kind": "company",
    "renter-name": "Théâtre du Parc asbl",
    "renter-email": "factures@parc.example",
    "renter-language": "fr",
    "renter-vat_number": "BE 0403.019.261",
}


@pytest.fixture
def manager_client(client, space_manager):
    client.force_login(space_manager)
    return client


@pytest.fixture
def url(long_horizon_room):
    return reverse("spaces:room_detail", args=[long_horizon_room.pk])


def counts() -> tuple[int, int, int, int]:
    return (
        Client.objects.count(),
        Booking.objects.count(),
        Invoice.objects.count(),
        AuditEvent.objects.count(),
    )


def test_the_booking_form_offers_a_new_renter_without_javascript(manager_client, url):
    page = manager_client.get(url).content.decode()

    fieldset = page[page.index('<fieldset id="new-renter">') : page.index("</fieldset>")]
    names = re.findall(r'name="(renter-[a-z_]+)"', fieldset)
    assert names == [
        "renter-create",
        "renter-kind",
        "renter-name",
        "renter-street",
        "renter-postal_code",
        "renter-city",
        "renter-country",
        "renter-email",
        "renter-language",
        "renter-vat_number",
        "renter-peppol_id",
        "renter-gln",
        "renter-payment_terms_days",
    ]
    # Booking for an Activity leaves these empty: the browser must not demand them.
    assert " required" not in fieldset
    assert 'type="checkbox" name="renter-create"' in fieldset


def test_a_member_sees_no_new_renter(client, member, activity, url):
    client.force_login(member.user)
    assert "renter-create" not in client.get(url).content.decode()


def test_manager_books_and_invoices_a_new_private_person(manager_client, url):
    response = manager_client.post(url, booking_data(**PERSON))

    assert response.status_code == 302
    renter = Client.objects.get(name="Jan Jansen")
    assert (renter.owner, renter.kind, renter.language) == (None, "person", "nl")
    assert (renter.street, renter.postal_code, renter.city, renter.country) == (
        "Rue Haute 12",
        "1000",
        "Bruxelles",
        "BE",
    )
    assert (renter.email, renter.vat_number, renter.payment_terms_days) == (
        "jan.jansen@example.org",
        "",
        15,
    )
    booking = Booking.objects.get()
    assert response["Location"] == reverse("spaces:booking_detail", args=[booking.pk])
    assert (booking.organisation, booking.activity, booking.state) == (renter, None, "confirmed")
    # Two hours at the external rate of 25.00, with 21 % VAT, invoiced to the renter.
    invoice = booking.invoice
    assert invoice.client == renter
    # A first invoice to a new client waits for staff review (invoicing's own rule).
    assert invoice.status == "pending_review"
    assert (invoice.total_excl_vat, invoice.total_incl_vat) == (Decimal("50.00"), Decimal("60.50"))
    assert invoice.activity == booking.room.site.income_activity


def test_manager_books_a_new_organisation_with_its_vat_number(manager_client, url):
    response = manager_client.post(url, booking_data(**ORGANISATION))

    assert response.status_code == 302
    renter = Client.objects.get(name="Théâtre du Parc asbl")
    assert (renter.owner, renter.kind, renter.vat_number) == (None, "company", "BE0403019261")
    assert (renter.enterprise_number, renter.peppol_id) == ("0403019261", "0208:0403019261")
    assert Booking.objects.get().organisation == renter
    # The new renter is one of the outside organisations found by name from now on.
    found = manager_client.get(reverse("spaces:lookup_organisations"), {"q": "parc"}).json()
    assert found["results"] == [{"pk": renter.pk, "text": f"Théâtre du Parc asbl #{renter.pk}"}]


def test_an_invalid_vat_number_is_refused_and_nothing_is_created(manager_client, url):
    before = counts()

    response = manager_client.post(
        url, booking_data(**{**ORGANISATION, "renter-vat_number": "BE0431150351"})
    )

    assert response.status_code == 200
    assert response.context["renter_form"].errors["vat_number"] == [
        "This VAT number is not valid: check the country prefix and the digits."
    ]
    assert counts() == before
    # What was typed stays in the form.
    assert 'value="Théâtre du Parc asbl"' in response.content.decode()


def test_a_private_person_with_a_vat_number_is_refused(manager_client, url):
    before = counts()

    response = manager_client.post(
        url, booking_data(**{**PERSON, "renter-vat_number": "BE0403019261"})
    )

    assert response.status_code == 200
    assert response.context["renter_form"].errors["vat_number"] == [
        "A private person has no VAT number: choose “company” for a business."
    ]
    assert counts() == before


def test_missing_details_are_named_field_by_field(manager_client, url):
    before = counts()
    data = booking_data(**{**PERSON, "renter-name": "", "renter-email": "not an address"})

    response = manager_client.post(url, data)

    assert response.status_code == 200
    errors = response.context["renter_form"].errors
    assert errors["name"] == ["This field is required."]
    assert errors["email"] == ["Enter a valid email address."]
    assert counts() == before


def test_a_refused_booking_leaves_no_renter_behind(
    manager_client, url, long_horizon_room, member, activity
):
    taken = manager_client.post(url, booking_data(activity=str(activity.pk)))
    assert taken.status_code == 302
    before = counts()

    response = manager_client.post(url, booking_data(**PERSON, start_time="15:00"))

    assert response.status_code == 200
    assert response.context["form"].errors["start_time"] == [
        "Salle Bleue is already booked from 03/12/2030 14:00 to 16:00."
    ]
    assert response.context["renter_form"].errors == {}
    assert counts() == before
    assert not Client.objects.filter(name="Jan Jansen").exists()


def test_one_payer_only(manager_client, url, member, activity, organisation):
    before = counts()
    for payer in ({"activity": str(activity.pk)}, {"organisation": f"#{organisation.pk}"}):
        response = manager_client.post(url, booking_data(**PERSON, **payer))

        assert response.status_code == 200
        assert response.context["form"].non_field_errors() == [
            "Choose one payer: a paying Activity, an outside organisation or a new outside renter."
        ]
    assert counts() == before


def test_renter_details_without_the_box_ticked_are_ignored(manager_client, url, activity):
    data = booking_data(activity=str(activity.pk), **{**PERSON, "renter-create": ""})

    response = manager_client.post(url, data)

    assert response.status_code == 302
    assert Booking.objects.get().activity == activity
    assert not Client.objects.filter(name="Jan Jansen").exists()


def test_a_known_vat_number_books_for_the_existing_renter(manager_client, url, organisation):
    clients = Client.objects.count()

    response = manager_client.post(
        url, booking_data(**{**ORGANISATION, "renter-vat_number": organisation.vat_number})
    )

    assert response.status_code == 302
    assert Client.objects.count() == clients
    assert Booking.objects.get().organisation == organisation
    shown = [str(message) for message in response.wsgi_request._messages]
    assert shown == [
        "Booked: Festival rehearsal.",
        "“Kunstenfestival vzw” was already an outside renter: the booking is theirs.",
    ]


def test_only_space_managers_add_outside_renters(member):
    with pytest.raises(BookingError) as caught:
        add_outside_renter(
            actor=member.user,
            kind="person",
            name="Jan Jansen",
            street="Rue Haute 12",
            postal_code="1000",
            city="Bruxelles",
            country="BE",
            email="jan@example.org",
            language="nl",
        )
    assert caught.value.code == "external_needs_manager"
    assert not Client.objects.filter(name="Jan Jansen").exists()


def test_the_new_renter_flow_works_in_french(manager_client, url, settings):
    manager_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    page = manager_client.get(url).content.decode()
    assert "Ou un nouveau locataire externe" in page

    response = manager_client.post(
        url, booking_data(**{**ORGANISATION, "renter-vat_number": "BE0431150351"})
    )
    assert response.context["renter_form"].errors["vat_number"] == [
        "Ce numéro de TVA n’est pas valide\u00a0: vérifiez le préfixe du pays et les chiffres."
    ]
