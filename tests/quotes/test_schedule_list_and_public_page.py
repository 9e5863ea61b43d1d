"""The payment schedule as members type it in their language, percentages as readers write
them, the quote list in number order, and the client's page: signature, withdrawn links,
link expiry and long titles."""

import base64
import datetime
from decimal import Decimal

import pypdfium2
import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import translation

from quotes import services
from quotes.errors import QuotingError
from quotes.forms import parse_schedule, schedule_text
from quotes.models import Quote, QuoteVersion
from quotes.pdf import render_quote_pdf
from tests.invoicing.test_pdf import page_lines
from tests.quotes.conftest import TODAY, form_data, make_draft, png, send


@pytest.mark.parametrize(
    ("text", "due"),
    [
        ("Acompte; 50; à la commande\nSolde; 50; à la livraison", ["order", "delivery"]),
        ("Voorschot; 50; bij bestelling\nSaldo; 50; bij levering", ["order", "delivery"]),
        ("Deposit; 50; at order\nBalance; 50; on delivery", ["order", "delivery"]),
        ("Deposit; 50; order\nBalance; 50; delivery", ["order", "delivery"]),
        ("Acompte; 50; À LA COMMANDE\nSolde; 50; 31/03/2027", ["order", "2027-03-31"]),
    ],
)
def test_the_schedule_is_read_in_french_dutch_and_english(text, due):
    schedule = services.clean_schedule(parse_schedule(text))
    assert [part["due"] for part in schedule] == due
    assert [part["percent"] for part in schedule] == ["50.00", "50.00"]


def test_the_schedule_takes_a_comma_or_a_dot_before_the_decimals():
    schedule = services.clean_schedule(
        parse_schedule("Acompte; 33,5; à la commande\nSolde; 66.5; à la livraison")
    )
    assert [part["percent"] for part in schedule] == ["33.50", "66.50"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "Acompte; 30; à la commande\nSolde; 70; un jour",
            'Payment schedule, line 2 ("Solde"): say when it is due',
        ),
        (
            "Acompte; trente; à la commande\nSolde; 70; à la livraison",
            'Payment schedule, line 1 ("Acompte"): The percentage is not a number.',
        ),
        ("Acompte; 30; at order\n; 70; on delivery", "Payment schedule, line 2: give it a label"),
    ],
)
def test_a_schedule_error_names_its_line(text, message):
    with translation.override("en"), pytest.raises(QuotingError) as refused:
        services.clean_schedule(parse_schedule(text))
    assert refused.value.message.startswith(message)
    assert refused.value.field == "schedule"


def test_the_schedule_is_shown_back_in_the_members_language():
    schedule = [
        {"label": "Acompte", "percent": "33.50", "due": "order"},
        {"label": "Solde", "percent": "66.50", "due": "2027-03-31"},
    ]
    with translation.override("en"):
        assert schedule_text(schedule) == "Acompte; 33.5; at order\nSolde; 66.5; 31/03/2027"
    for language in ("fr", "nl", "en"):
        with translation.override(language):
            text = schedule_text(schedule)
        if language != "en":
            assert "33,5" in text
        # What is shown is read back the same.
        assert services.clean_schedule(parse_schedule(text)) == schedule


def test_percentages_read_as_the_language_writes_them(
    client, member, activity, quote_client, django_capture_on_commit_callbacks
):
    schedule = [
        {"label": "Acompte", "percent": "50", "due": "order"},
        {"label": "Solde", "percent": "50", "due": "delivery"},
    ]
    draft = make_draft(
        member, activity, quote_client, deposit_percent=Decimal("50"), schedule=schedule
    )
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    client.force_login(member.user)
    page = client.get(reverse("quotes:quote_detail", args=[draft.pk])).text
    # French writes a no-break space before the colon and the percent sign.
    assert "Acompte\u00a0: 50,00\u00a0%" in page
    assert "50.00" not in page
    quote, token = send(draft, member.user, capture=django_capture_on_commit_callbacks)
    public = client.get(reverse("quotes:public", args=[token]) + "?lang=fr").text
    assert "Acompte\u00a0: 50,00\u00a0%" in public
    english = client.get(reverse("quotes:public", args=[token]) + "?lang=en").text
    assert "Acompte: 50.00\u00a0%" in english
    snapshot = dict(quote.current_version.snapshot, language="fr")
    lines = page_lines(pypdfium2.PdfDocument(render_quote_pdf(snapshot))[0])
    assert any("Acompte : 50,00 %" in line for line in lines), lines


def test_a_total_not_100_is_said_in_the_readers_language():
    with translation.override("fr"), pytest.raises(QuotingError) as refused:
        services.clean_schedule([{"label": "Tout", "percent": "50", "due": "order"}])
    assert "50,00\u00a0%" in refused.value.message


def test_the_form_takes_a_deposit_with_a_comma(client, member, activity, quote_client):
    client.force_login(member.user)
    response = client.post(
        reverse("quotes:quote_create"),
        form_data(
            activity,
            quote_client,
            deposit_percent="12,5",
            schedule="Acompte; 12,5; à la commande\nSolde; 87,5; bij levering",
        ),
    )
    assert response.status_code == 302
    version = QuoteVersion.objects.get()
    assert version.deposit_percent == Decimal("12.50")
    assert [part["due"] for part in version.schedule] == ["order", "delivery"]


def test_the_quote_form_speaks_of_a_quote_in_its_live_totals(
    client, member, activity, quote_client
):
    client.force_login(member.user)
    response = client.post(
        reverse("quotes:quote_preview"),
        form_data(activity, quote_client, **{"lines-0-unit_price": "-5"}),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert "Line 1: the unit price cannot be negative." in response.text
    assert "invoice" not in response.text.replace("invoice-totals", "")


# The quote list


def test_the_list_shows_drafts_first_then_the_newest_number_first(
    client, member, activity, quote_client, django_capture_on_commit_callbacks
):
    first = make_draft(member, activity, quote_client, title="Premier")
    second = make_draft(member, activity, quote_client, title="Deuxième")
    third = make_draft(member, activity, quote_client, title="Troisième")
    # Numbered against their creation order: the third first, then the first.
    send(third, member.user, capture=django_capture_on_commit_callbacks)
    send(first, member.user, capture=django_capture_on_commit_callbacks)
    later = make_draft(member, activity, quote_client, title="Brouillon récent")
    client.force_login(member.user)
    page = client.get(reverse("quotes:quote_list"))
    titles = [row["title"] for row in page.context["quotes"]]
    assert titles == ["Brouillon récent", "Deuxième", "Premier", "Troisième"]
    numbers = [row["number"] for row in page.context["quotes"]]
    assert numbers == ["", "", f"D-{TODAY.year}-000002", f"D-{TODAY.year}-000001"]
    assert {later.pk, second.pk} == {row["pk"] for row in page.context["quotes"][:2]}


def test_the_list_pages_through_drafts_and_numbers(
    client, member, activity, quote_client, django_capture_on_commit_callbacks, monkeypatch
):
    from quotes import views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    quotes = [make_draft(member, activity, quote_client, title=f"Q{n}") for n in range(5)]
    for quote in quotes[:3]:
        send(quote, member.user, capture=django_capture_on_commit_callbacks)
    client.force_login(member.user)
    seen, url = [], reverse("quotes:quote_list")
    while url:
        page = client.get(url)
        seen += [row["title"] for row in page.context["quotes"]]
        cursor = page.context["page"].older_cursor
        url = f"{reverse('quotes:quote_list')}?cursor={cursor}" if cursor else ""
    assert seen == ["Q4", "Q3", "Q2", "Q1", "Q0"]


def test_the_api_lists_quotes_in_number_order(
    member, activity, quote_client, django_capture_on_commit_callbacks
):
    from tests.conftest import api_client_for

    older = make_draft(member, activity, quote_client, title="A")
    make_draft(member, activity, quote_client, title="B")
    send(older, member.user, capture=django_capture_on_commit_callbacks)
    results = api_client_for(member.user).get("/api/v1/quotes/").json()["results"]
    assert [row["current_version"]["title"] for row in results] == ["B", "A"]


# The client's page


def _data_url(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode()


@pytest.mark.parametrize(
    "signature",
    [
        _data_url(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20),
        _data_url(png()[:-6]),
        "data:image/svg+xml;base64," + base64.b64encode(b"<svg/>").decode(),
        "not a drawing",
    ],
)
def test_an_unreadable_signature_is_refused_and_the_answers_kept(client, sent, signature):
    _quote, token = sent
    response = client.post(
        reverse("quotes:public", args=[token]) + "?lang=en",
        {
            "action": "accept",
            "accept-name": "Jan Janssens",
            "accept-function": "Zaakvoerder",
            "accept-po_number": "PO-4411",
            "accept-conditions": "on",
            "accept-signature": signature,
        },
    )
    assert response.status_code == 400
    assert "Your drawn signature could not be read, so the quote was not accepted" in (
        response.text.replace("&#x27;", "'")
    )
    assert 'value="Jan Janssens"' in response.text
    assert 'value="PO-4411"' in response.text
    assert signature not in response.text
    assert Quote.objects.get().status == Quote.Status.SENT


def test_a_whole_png_signature_is_kept(client, sent):
    _quote, token = sent
    response = client.post(
        reverse("quotes:public", args=[token]),
        {
            "action": "accept",
            "accept-name": "Jan",
            "accept-conditions": "on",
            "accept-signature": _data_url(png()),
        },
    )
    assert response.status_code == 302
    assert bytes(QuoteVersion.objects.get().signature) == png()


def test_a_withdrawn_link_says_who_withdrew_it_and_whom_to_write_to(client, member, sent):
    quote, token = sent
    services.revoke_link(user=member.user, quote=quote)
    response = client.get(reverse("quotes:public", args=[token]) + "?lang=en")
    assert response.status_code == 410
    text = response.text
    assert "This link was withdrawn by the sender" in text
    assert f"Ana Peeters withdrew this link to quote {quote.number}" in text
    assert "ask Ana Peeters for a new link, or write to coop SCE at" in text


def test_the_link_expiry_is_said_in_brussels_time_in_the_clients_language(sent):
    _quote, token = sent
    link = services.find_link(token)
    # The link ends at midnight in Brussels after the last valid day: its last minute is said.
    with translation.override("fr"):
        french = services.link_expiry_wording(link.expires_at)
    with translation.override("nl"):
        dutch = services.link_expiry_wording(link.expires_at)
    valid_until = link.version.valid_until
    months_fr = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
                 "septembre", "octobre", "novembre", "décembre"]  # fmt: skip
    assert french.startswith(f"{valid_until.day} {months_fr[valid_until.month - 1]}")
    assert "23:59" in french
    assert "23:59" in dutch
    # The e-mail (Dutch, the client's language) says the same.
    assert "23:59" in mail.outbox[0].body
    assert f"{valid_until.year}" in mail.outbox[0].body


def test_link_expiry_wording_is_brussels_time_whatever_the_hour():
    expires = datetime.datetime(2027, 1, 9, 14, 30, tzinfo=datetime.UTC)  # 15:30 in Brussels
    with translation.override("en"):
        assert services.link_expiry_wording(expires) == "Jan. 9, 2027 at 3:29 p.m., Brussels time"
    with translation.override("fr"):
        assert services.link_expiry_wording(expires).startswith("9 janvier 2027")
        assert "15:29" in services.link_expiry_wording(expires)


def test_a_long_title_wraps_on_the_clients_page(
    client, member, activity, quote_client, django_capture_on_commit_callbacks
):
    title = "Affiche" + "x" * 193
    draft = make_draft(member, activity, quote_client, title=title)
    _quote, token = send(draft, member.user, capture=django_capture_on_commit_callbacks)
    page = client.get(reverse("quotes:public", args=[token]))
    assert f'<p class="lead quote-title">{title}</p>' in page.text
    from pathlib import Path

    css = (Path(settings.BASE_DIR) / "static/css/coop.css").read_text()
    assert ".public-quote .quote-title" in css and "overflow-wrap: anywhere" in css
