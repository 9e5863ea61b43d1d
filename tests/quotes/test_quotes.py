"""Quotes: drafting through invoicing's rules, sending, numbering, freezing and the answers."""

import datetime
import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.core import mail
from django.db import DatabaseError, connection, transaction

from audit.models import AuditEvent
from invoicing.services.clients import create_client
from invoicing.services.drafts import LineInput
from invoicing.services.drafts import save_draft as save_invoice_draft
from members.services import create_activity
from quotes import services
from quotes.errors import QuotingError
from quotes.models import Quote, QuoteEvent, QuoteLink, QuoteSequence, QuoteVersion
from tests.conftest import make_member
from tests.quotes.conftest import LINES, TODAY, make_draft, png, send, terms

PNG = png()


def test_draft_totals_are_those_of_an_identical_invoice(member, activity, quote_client, draft):
    invoice = save_invoice_draft(
        user=member.user, activity=activity, client=quote_client, lines=list(LINES), today=TODAY
    )
    version = draft.current_version
    # 3 × 19.99 = 59.97 at 21 % (12.59, rounded on the group) and 100.00 at 6 % (6.00).
    assert version.total_excl_vat == invoice.total_excl_vat == Decimal("159.97")
    assert version.total_vat == invoice.total_vat == Decimal("18.59")
    assert version.total_incl_vat == invoice.total_incl_vat == Decimal("178.56")
    assert [line.line_total for line in version.lines.all()] == [
        Decimal("59.97"),
        Decimal("100.00"),
    ]
    assert draft.status == Quote.Status.DRAFT and draft.number == ""
    assert draft.language == "nl"
    assert version.schedule == [
        {"label": "Acompte", "percent": "30.00", "due": "order"},
        {"label": "Solde", "percent": "70.00", "due": "delivery"},
    ]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"title": " "}, "title", "Give the quote a title."),
        ({"valid_until": TODAY - datetime.timedelta(days=1)}, "valid_until", "past"),
        ({"deposit_percent": Decimal("120")}, "deposit_percent", "at most 100"),
        (
            {"schedule": [{"label": "All", "percent": "90", "due": "order"}]},
            "schedule",
            "add up to 90.00\u00a0%",
        ),
        (
            {"schedule": [{"label": "All", "percent": "100", "due": "someday"}]},
            "schedule",
            'line 1 \\("All"\\): say when it is due',
        ),
    ],
)
def test_bad_terms_are_refused_with_their_field(
    member, activity, quote_client, changes, field, message
):
    with pytest.raises(QuotingError, match=message) as refused:
        make_draft(member, activity, quote_client, **changes)
    assert refused.value.field == field
    assert not Quote.objects.exists()


def test_bad_lines_are_refused_by_invoicings_rules(member, activity, quote_client):
    line = LineInput(
        description="x", quantity=Decimal("1"), unit="hour", unit_price=Decimal("1.001")
    )
    with pytest.raises(QuotingError, match="more than two decimals") as refused:
        make_draft(member, activity, quote_client, lines=[line])
    assert refused.value.field == "lines"
    with pytest.raises(QuotingError, match="at least one line"):
        make_draft(member, activity, quote_client, lines=[])


def test_another_members_client_is_unknown(other_member, activity, member, quote_client):
    other_activity = create_activity(owner=other_member, name="Stage")
    with pytest.raises(QuotingError, match="Unknown client"):
        make_draft(other_member, other_activity, quote_client)


def test_sending_numbers_freezes_hashes_and_emails(member, sent):
    quote, token = sent
    version = quote.current_version
    assert quote.status == Quote.Status.SENT
    assert quote.number == f"D-{TODAY.year}-000001"
    assert version.sent_at is not None
    assert version.snapshot["number"] == quote.number
    assert version.snapshot["totals"] == {
        "tax_exclusive": "159.97",
        "vat": "18.59",
        "tax_inclusive": "178.56",
    }
    assert (
        version.data_sha256 == hashlib.sha256(services.canonical_json(version.snapshot)).hexdigest()
    )
    version.refresh_from_db()
    document = version.document
    assert document.is_ready and version.pdf_sha256 == document.sha256
    with document.file.open("rb") as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == version.pdf_sha256
    link = QuoteLink.objects.get(version=version)
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(QuoteLink.objects.values_list())
    assert services.timezone.localtime(link.expires_at) == services.timezone.make_aware(
        datetime.datetime.combine(version.valid_until + datetime.timedelta(days=1), datetime.time())
    )
    [message] = mail.outbox
    assert message.to == ["compta@galeries.example"]
    # In the client's language (Dutch when the catalogue has it), with the PDF and the link.
    assert f"/q/{token}/" in message.body
    assert message.attachments[0][0] == f"{quote.number}.pdf"
    assert message.attachments[0][1].startswith(b"%PDF")
    assert list(quote.events.values_list("kind", flat=True)) == ["created", "sent"]
    assert AuditEvent.objects.filter(action="sent", object_pk=str(quote.pk)).exists()
    # A second e-mail of the same link is never sent.
    assert services.find_link(token).emailed_at is not None


def test_a_sent_quote_cannot_be_sent_or_edited_again(member, activity, quote_client, sent):
    quote, _token = sent
    with pytest.raises(QuotingError, match="already sent"):
        services.send_quote(user=member.user, quote=quote)
    with pytest.raises(QuotingError, match="new version"):
        services.save_draft(
            user=member.user,
            activity=activity,
            client=quote_client,
            lines=list(LINES),
            terms=terms(),
            today=TODAY,
            quote=quote,
        )


@pytest.mark.django_db(transaction=True)
def test_concurrent_senders_get_distinct_gapless_numbers(monkeypatch):
    # Nothing leaves the machine: the PDF and the e-mail are queued after the commit.
    monkeypatch.setattr(services, "_queue_render", lambda document: None)
    monkeypatch.setattr(services, "_queue_email", lambda link, token: None)
    member = make_member("ana@coop.test", legal_name="Ana Peeters", niss="85073003328")
    activity = create_activity(owner=member, name="Illustration")
    client, _created = create_client(
        owner=member.user,
        kind="company",
        name="Galeries",
        street="Galerie du Roi 32",
        postal_code="1000",
        city="Bruxelles",
        country="BE",
        email="compta@galeries.example",
        language="fr",
        vat_number="BE1000000021",
    )
    drafts = [make_draft(member, activity, client) for _index in range(20)]
    barrier = threading.Barrier(20)

    def send_one(quote):
        try:
            barrier.wait(timeout=10)
            return services.send_quote(user=member.user, quote=quote)[0].number
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=20) as pool:
        numbers = list(pool.map(send_one, drafts))
    year = TODAY.year
    assert sorted(numbers) == [f"D-{year}-{index:06d}" for index in range(1, 21)]
    assert QuoteSequence.objects.get(series=f"D-{year}").last_number == 20
    assert Quote.objects.filter(status=Quote.Status.SENT).count() == 20


def test_the_accepted_version_is_frozen_by_the_database(sent):
    quote, token = sent
    services.accept_quote(
        link=services.find_link(token),
        name="Jan Janssens",
        function="Directeur",
        conditions_accepted=True,
        po_number="PO-77",
        ip="198.51.100.7",
        user_agent="Test browser",
    )
    version = quote.current_version
    statements = [
        ("UPDATE quotes_quoteversion SET total_incl_vat = 1 WHERE id = %s", [version.pk]),
        ("UPDATE quotes_quoteversion SET client_po_number = 'x' WHERE id = %s", [version.pk]),
        ("DELETE FROM quotes_quoteversion WHERE id = %s", [version.pk]),
        ("UPDATE quotes_quoteline SET unit_price = 1 WHERE version_id = %s", [version.pk]),
        ("DELETE FROM quotes_quoteline WHERE version_id = %s", [version.pk]),
        (
            "INSERT INTO quotes_quoteline (version_id, position, description, quantity,"
            " unit_code, unit_price, vat_category, vat_rate, supply_kind, exemption_reason,"
            " exemption_code, allowance_amount, allowance_reason, line_total)"
            " VALUES (%s, 9, 'extra', 1, 'hour', 1, 'S', 21, 'services', '', '', 0, '', 1)",
            [version.pk],
        ),
        ("UPDATE quotes_quote SET sequence_number = 99 WHERE id = %s", [quote.pk]),
        ("UPDATE quotes_quoteevent SET ip = NULL WHERE quote_id = %s", [quote.pk]),
    ]
    for sql, params in statements:
        with (
            pytest.raises(DatabaseError, match=r"cannot|append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, params)
    version.refresh_from_db()
    assert version.total_incl_vat == Decimal("178.56")
    assert version.client_po_number == "PO-77"


def test_a_sent_versions_content_is_frozen_but_its_answer_is_not(sent):
    quote, _token = sent
    version = quote.current_version
    with pytest.raises(DatabaseError, match="sent quote version"), transaction.atomic():
        QuoteVersion.objects.filter(pk=version.pk).update(title="Changed")
    with pytest.raises(DatabaseError, match="sent quote version"), transaction.atomic():
        QuoteVersion.objects.filter(pk=version.pk).update(pdf_sha256="0" * 64)


def test_accepting_records_who_when_and_from_where(member, sent):
    quote, token = sent
    quote = services.accept_quote(
        link=services.find_link(token),
        name="Jan Janssens",
        function="Directeur",
        conditions_accepted=True,
        signature=PNG,
        po_number="PO-2026-17",
        ip="198.51.100.7",
        user_agent="Mozilla/5.0 Test",
    )
    version = QuoteVersion.objects.get(pk=quote.current_version_id)
    assert quote.status == Quote.Status.ACCEPTED
    assert version.accepted_by_name == "Jan Janssens"
    assert version.accepted_by_function == "Directeur"
    assert version.client_po_number == "PO-2026-17"
    assert bytes(version.signature) == PNG
    assert version.accepted_ip == "198.51.100.7"
    event = quote.events.get(kind=QuoteEvent.Kind.ACCEPTED)
    assert event.ip == "198.51.100.7"
    assert event.user_agent == "Mozilla/5.0 Test"
    assert event.details["po_number"] == "PO-2026-17"
    assert event.details["data_sha256"] == version.data_sha256
    assert event.details["pdf_sha256"] == version.pdf_sha256
    assert AuditEvent.objects.filter(action="accepted", object_pk=str(quote.pk)).exists()
    with pytest.raises(QuotingError, match="already answered"):
        services.decline_quote(
            link=services.find_link(token), reason="Too late", ip=None, user_agent=""
        )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": " ", "conditions_accepted": True}, "Give your name"),
        ({"name": "Jan", "conditions_accepted": False}, "Tick the box"),
        ({"name": "Jan", "conditions_accepted": True, "signature": b"GIF89a"}, "signature"),
        ({"name": "Jan", "conditions_accepted": True, "po_number": "P" * 101}, "at most 100"),
    ],
)
def test_bad_acceptances_are_refused(sent, fields, message):
    _quote, token = sent
    with pytest.raises(QuotingError, match=message):
        services.accept_quote(link=services.find_link(token), ip=None, user_agent="", **fields)
    assert Quote.objects.get().status == Quote.Status.SENT


def test_declining_needs_a_reason_and_tells_the_member(sent, django_capture_on_commit_callbacks):
    quote, token = sent
    link = services.find_link(token)
    with pytest.raises(QuotingError, match="Say why"):
        services.decline_quote(link=link, reason="  ", ip=None, user_agent="")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        quote = services.decline_quote(
            link=link, reason="Budget cut", ip="203.0.113.9", user_agent="UA"
        )
    assert quote.status == Quote.Status.DECLINED
    assert quote.current_version.decline_reason == "Budget cut"
    event = quote.events.get(kind="declined")
    assert (event.ip, event.user_agent, event.details["reason"]) == (
        "203.0.113.9",
        "UA",
        "Budget cut",
    )
    assert len(callbacks) == 1
    from quotes.documents import notify_member

    assert notify_member(event_pk=event.pk)
    assert mail.outbox[0].to == ["ana@coop.test"]
    assert "Budget cut" in mail.outbox[0].body


def test_a_change_request_then_a_new_version(member, sent, django_capture_on_commit_callbacks):
    quote, token = sent
    link = services.find_link(token)
    with pytest.raises(QuotingError, match="Say what"):
        services.request_change(link=link, message="", ip=None, user_agent="")
    quote = services.request_change(
        link=link, message="Four posters, please", ip="203.0.113.9", user_agent="UA"
    )
    assert quote.status == Quote.Status.CHANGE_REQUESTED
    quote = services.new_version(user=member.user, quote=quote)
    version = quote.current_version
    assert (version.version, quote.status) == (2, Quote.Status.DRAFT)
    assert version.sent_at is None
    assert [line.description for line in version.lines.all()] == ["Illustrations", "Print files"]
    assert version.total_incl_vat == Decimal("178.56")

    # The first version, already answered, cannot be answered again; its link still opens
    # it until the newer version is sent, then says a newer one replaces it.
    def accept_first_version():
        return services.accept_quote(
            link=services.find_link(token), name="Jan", conditions_accepted=True, ip=None,
            user_agent="",
        )  # fmt: skip

    assert services.link_state(services.find_link(token), now=services.timezone.now()) == "open"
    with pytest.raises(QuotingError, match="already answered: Change requested"):
        accept_first_version()
    quote, token2 = send(quote, member.user, capture=django_capture_on_commit_callbacks)
    assert services.link_state(services.find_link(token), now=services.timezone.now()) == "replaced"
    with pytest.raises(QuotingError, match="newer version"):
        accept_first_version()
    assert quote.number == f"D-{TODAY.year}-000001"  # the quote keeps its number
    assert quote.current_version.version == 2
    quote = services.accept_quote(
        link=services.find_link(token2),
        name="Jan",
        conditions_accepted=True,
        ip=None,
        user_agent="",
    )
    assert quote.status == Quote.Status.ACCEPTED


def test_revoked_and_expired_links_refuse(member, sent):
    quote, token = sent
    link = services.find_link(token)
    now = services.timezone.now()
    assert services.link_state(link, now=now) == "open"
    assert services.link_state(link, now=link.expires_at) == "expired"
    with pytest.raises(QuotingError, match="expired"):
        services.accept_quote(
            link=link,
            name="Jan",
            conditions_accepted=True,
            ip=None,
            user_agent="",
            now=link.expires_at,
        )
    assert services.revoke_link(user=member.user, quote=quote) == 1
    link = services.find_link(token)
    assert services.link_state(link, now=now) == "revoked"
    with pytest.raises(QuotingError, match="withdrawn"):
        services.accept_quote(
            link=link, name="Jan", conditions_accepted=True, ip=None, user_agent=""
        )
    assert services.find_link("not-a-token") is None
    assert services.link_state(None, now=now) == "unknown"


def test_resending_gives_a_new_link_and_withdraws_the_old(
    member, sent, django_capture_on_commit_callbacks
):
    quote, token = sent
    with django_capture_on_commit_callbacks(execute=False):
        quote, token2 = services.resend_quote(user=member.user, quote=quote)
    assert token2 != token
    assert services.link_state(services.find_link(token), now=services.timezone.now()) == "revoked"
    assert services.link_state(services.find_link(token2), now=services.timezone.now()) == "open"


def test_only_a_quote_never_sent_is_deleted(member, draft, sent):
    quote, _token = sent
    with pytest.raises(QuotingError, match="never sent"):
        services.delete_draft(user=member.user, quote=quote)


def test_deleting_a_draft(member, activity, quote_client):
    quote = make_draft(member, activity, quote_client)
    services.delete_draft(user=member.user, quote=quote)
    assert not Quote.objects.filter(pk=quote.pk).exists()
    assert not QuoteVersion.objects.exists()
