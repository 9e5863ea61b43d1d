"""Pages, the admin and e-mails read as written for their reader's language.

Each is rendered in English, French and Dutch from the demo world, and its visible text (not
attributes, form values, scripts or code) is checked: no English sentence left in a French or
Dutch text, no ISO date (2026-12-04) in prose, no amount written with a decimal point in French
or Dutch ("1078.60 €", "€ 12.50") and no amount of four digits or more left ungrouped ("3097,02").
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import lxml.html
import pytest
from django.apps import apps
from django.contrib import admin
from django.core.management import call_command
from django.db import models
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.dates import MONTHS_3
from django.utils.translation import trans_real

from contracts.models import ContractEvent
from contracts.services.contracts import NOTIFIED as CONTRACT_NOTIFIED
from contracts.services.contracts import notify_contract_event
from coop.documents import DocumentStatus
from invoicing.models import Dispatch, Invoice, Reminder
from invoicing.services.documents import send_dispatch, send_reminder_email
from members.demo import DEMO_STAFF
from members.models import Member, MembershipEvent, User
from members.services import NOTIFIED_EVENTS, notify_membership_event
from spaces.models import Booking, BookingEvent
from spaces.notices import send_booking_notice
from tests.test_browser_pages import MEMBER, SPACE_MANAGER, manager_pages, member_pages

LANGUAGES = ["en", "fr", "nl"]
# Elements whose text is not prose: scripts, styles, code samples and what a person typed.
NOT_PROSE = {"script", "style", "template", "code", "pre", "kbd", "samp", "textarea"}
ISO_DATE = re.compile(r"(?<![\d-])\d{4}-\d{2}-\d{2}(?![\d-])")
DOT_DECIMAL_AMOUNT = re.compile(
    r"(?<![\d.,])\d+\.\d{2}(?!\d)[\s\u00a0\u202f]*€|€[\s\u00a0\u202f]*\d+\.\d{2}(?!\d)"
)
UNGROUPED_AMOUNT = re.compile(r"(?<![\d.,\u00a0\u202f ])\d{4,}[.,]\d{2}(?!\d)")
ABBREVIATED_MONTH = re.compile(r"\d\s+([^\W\d_]{3})\s+\d{4}")
# Short words that only English sentences are made of (none is French or Dutch).
ENGLISH_WORDS = {
    "the", "your", "you", "is", "are", "was", "this", "with", "and", "of", "to", "for",
    "has", "have", "not", "be", "will", "an", "or", "by", "from", "it", "no", "yet",
}  # fmt: skip
WORD = re.compile(r"[^\W\d_]+")
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%[sdif]|\{\{\s*\w+\s*\}\}|\{\w*\}")


def visible_texts(markup: str) -> list[str]:
    """The text pieces a reader of the page's language sees on an HTML page, in page order,
    each with its white space collapsed. Text marked as another language (the language
    switcher's names) and text that is not prose (NOT_PROSE) are left out."""
    root = lxml.html.document_fromstring(markup)
    language = root.get("lang", "")
    texts: list[str] = []

    def walk(element, is_prose: bool) -> None:
        is_prose = (
            is_prose and element.tag not in NOT_PROSE and element.get("lang", language) == language
        )
        if is_prose and element.text and element.text.strip():
            texts.append(" ".join(element.text.split()))
        for child in element:
            if isinstance(child.tag, str):
                walk(child, is_prose)
            if is_prose and child.tail and child.tail.strip():
                texts.append(" ".join(child.tail.split()))

    walk(root, True)
    return texts


def text_lines(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


@dataclass
class Findings:
    """What the renderings of places (a URL, an e-mail) in each language show wrongly.

    Text the database holds is left out: a name, a title or a note is shown as its author
    wrote it, in any language and with any dates in it.
    """

    stored: set[str]
    problems: list[str] = field(default_factory=list)

    def check(self, place: str, texts: dict[str, list[str]]) -> None:
        """Check the texts of one place, rendered in each of LANGUAGES."""
        english = set(texts.get("en", []))
        for language, pieces in texts.items():
            for piece in pieces:
                for problem in self.problems_of(piece, language, english):
                    self.problems.append(f"{place} [{language}] {problem}: {piece!r}")

    def problems_of(self, piece: str, language: str, english: set[str]) -> list[str]:
        problems = [f"ISO date {date}" for date in ISO_DATE.findall(piece)]
        problems += [f"ungrouped {amount}" for amount in UNGROUPED_AMOUNT.findall(piece)]
        if language != "en":
            problems += [f"amount {amount}" for amount in DOT_DECIMAL_AMOUNT.findall(piece)]
            problems += [
                f"month {month}"
                for month in ABBREVIATED_MONTH.findall(piece)
                if month in capitalised_months(language)
            ]
            if piece in english and is_english(piece, language):
                problems.append("untranslated")
        if problems and self.without_stored(piece) != piece:
            return self.problems_of(self.without_stored(piece), language, english)
        return problems

    def without_stored(self, piece: str) -> str:
        """The piece without the longest text of the database it contains."""
        if piece in self.stored:
            return ""
        contained = [text for text in self.stored if len(text) >= 8 and text in piece]
        return piece.replace(max(contained, key=len), " ") if contained else piece


def capitalised_months(language: str) -> set[str]:
    """The language's abbreviated month names, wrongly capitalised ("Déc" for "déc.")."""
    with translation.override(language):
        return {str(name).title() for name in MONTHS_3.values() if str(name).title() != str(name)}


def source_strings(language: str) -> tuple[set[str], list[re.Pattern]]:
    """The English source strings that the language's catalogs translate differently: as
    they are, and as patterns where they have placeholders."""
    catalog = trans_real.translation(language)._catalog
    plain, patterns = set(), []
    for key, translated in catalog.items():
        msgid = key[0] if isinstance(key, tuple) else key
        if not msgid or "\x04" in msgid or translated == msgid:
            continue
        msgid = " ".join(msgid.split())
        if PLACEHOLDER.search(msgid):
            parts = [re.escape(part) for part in PLACEHOLDER.split(msgid)]
            if sum(len(part) for part in parts) >= 12:
                patterns.append(re.compile(".+?".join(parts)))
        else:
            plain.add(msgid)
    return plain, patterns


_SOURCE_STRINGS: dict[str, tuple[set[str], list[re.Pattern]]] = {}


def is_english(piece: str, language: str) -> bool:
    """Tell whether a piece of text, the same in English, is left in English: it is a source
    string the language translates, or a sentence of English words."""
    if language not in _SOURCE_STRINGS:
        _SOURCE_STRINGS[language] = source_strings(language)
    plain, patterns = _SOURCE_STRINGS[language]
    if not WORD.search(piece):
        return False
    if piece in plain or piece.rstrip(":.") in plain:
        return True
    if any(pattern.fullmatch(piece) for pattern in patterns):
        return True
    words = [word.lower() for word in WORD.findall(piece)]
    return len(words) >= 3 and len(ENGLISH_WORDS.intersection(words)) >= 2


def test_the_checks_find_what_a_tester_saw():
    findings = Findings(stored={"Atelier 1 for 2026-12-04"})
    english = ["Successfully signed in as Ana.", "Invoice 2026-000001"]
    findings.check(
        "page",
        {
            "en": [*english, "3097.02", "Booked for Atelier 1 for 2026-12-04"],
            "fr": [
                "Successfully signed in as Ana.",  # an English source string, untranslated
                "1500.00 € (2026-12-04)",  # Python's str() of an amount and of a date
                "de 1078.60 €, payable",
                "3097,02",  # an amount without its groups
                "lun 4 Déc 2026",  # Django's "M" for "N"
                "Invoice 2026-000001",  # an invoice number, not a date
                "Réservé pour Atelier 1 for 2026-12-04",  # a stored title, as its author wrote it
            ],
            "nl": ["€ 12.50", "1.234,56 €", "4 dec. 2026"],
        },
    )
    assert [problem.split(":")[0] for problem in findings.problems] == [
        "page [en] ungrouped 3097.02",
        "page [fr] untranslated",
        "page [fr] ISO date 2026-12-04",
        "page [fr] ungrouped 1500.00",
        "page [fr] amount 1500.00 €",
        "page [fr] amount 1078.60 €",
        "page [fr] ungrouped 3097,02",
        "page [fr] month Déc",
        "page [nl] amount € 12.50",
    ]


def test_visible_text_leaves_out_attributes_code_inputs_and_other_languages():
    markup = (
        '<html lang="fr"><body><time datetime="2026-12-04">4 déc. 2026</time>'
        '<input value="2026-12-04"><code>{"amount": "12.50"}</code>'
        '<select><option lang="en">English</option><option lang="fr">Français</option></select>'
        "<p>Total <b>12,50 €</b> à payer</p><script>var day = '2026-12-04';</script></body></html>"
    )
    assert visible_texts(markup) == ["4 déc. 2026", "Français", "Total", "12,50 €", "à payer"]


@pytest.fixture
def demo(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    call_command("seed_demo")


def render_pages(client, settings, urls: list[str]) -> dict[str, dict[str, list[str]]]:
    """Each URL's visible texts in each language."""
    texts: dict[str, dict[str, list[str]]] = {url: {} for url in urls}
    for language in LANGUAGES:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, (url, language)
            texts[url][language] = visible_texts(response.content.decode())
    return texts


def stored_texts() -> set[str]:
    """Every text the database holds (names, titles, descriptions): shown as its author wrote
    it, in whatever language that was."""
    texts = set()
    for model in apps.get_models():
        names = [
            model_field.name
            for model_field in model._meta.concrete_fields
            if isinstance(model_field, models.CharField | models.TextField)
            and not model_field.choices
        ]
        for row in model._base_manager.values_list(*names) if names else []:
            texts.update(" ".join(value.split()) for value in row if isinstance(value, str))
    return texts


def test_member_and_space_manager_pages_are_written_for_their_language(client, demo, settings):
    findings = Findings(stored=stored_texts())
    member = User.objects.get(email=MEMBER)
    client.force_login(member)
    for url, texts in render_pages(client, settings, member_pages(member)).items():
        findings.check(url, texts)
    client.force_login(User.objects.get(email=SPACE_MANAGER))
    for url, texts in render_pages(client, settings, manager_pages()).items():
        findings.check(url, texts)
    assert findings.problems == []


def admin_pages(client) -> list[str]:
    """The admin's index, and each model's list and the change page of its first row."""
    urls = [reverse("admin:index")]
    for model, model_admin in admin.site._registry.items():
        info = (model._meta.app_label, model._meta.model_name)
        changelist = reverse("admin:{}_{}_changelist".format(*info))
        urls.append(changelist)
        request = client.get(changelist).wsgi_request
        first = model_admin.get_queryset(request).order_by("pk").first()
        if first is None:
            continue
        try:
            urls.append(reverse("admin:{}_{}_change".format(*info), args=[first.pk]))
        except NoReverseMatch:
            continue
    return urls


def test_staff_admin_pages_are_written_for_their_language(client, demo, settings):
    findings = Findings(stored=stored_texts())
    client.force_login(User.objects.get(email=DEMO_STAFF))
    for url, texts in render_pages(client, settings, admin_pages(client)).items():
        findings.check(url, texts)
    assert findings.problems == []


def test_emails_are_written_for_their_readers_language(demo, mailoutbox, settings):
    """Every e-mail, sent by the code that sends it, in the language of its reader."""
    senders = email_senders()
    texts: dict[str, dict[str, list[str]]] = {place: {} for place in senders}
    for language in LANGUAGES:
        for place, send in senders.items():
            mailoutbox.clear()
            sent = send(language)
            if sent is None:  # the demo has no such document in this language
                continue
            assert sent is True, place
            (message,) = mailoutbox
            texts[place][language] = text_lines(f"{message.subject}\n{message.body}")
    findings = Findings(stored=stored_texts())
    for place, by_language in texts.items():
        findings.check(place, by_language)
    assert findings.problems == []


def email_senders() -> dict[str, Callable[[str], bool]]:
    """For each e-mail template and each case it words differently, a function that sends it
    again to a reader of the given language."""
    senders: dict[str, Callable[[str], bool]] = {}
    for kind in NOTIFIED_EVENTS:
        event = MembershipEvent.objects.filter(kind=kind).order_by("pk").first()
        if event is None:
            event = MembershipEvent.objects.create(
                member=Member.objects.order_by("pk").first(), kind=kind, reason="Test"
            )
        senders[f"membership e-mail ({kind})"] = partial(send_membership_event, event)
    for status in CONTRACT_NOTIFIED:
        event = ContractEvent.objects.filter(to_status=status).order_by("pk").first()
        senders[f"contract e-mail ({status})"] = partial(send_contract_event, event)
    for state in ("confirmed", "tentative", "refused", "cancelled"):
        event = BookingEvent.objects.filter(to_state=state, booking__member__isnull=False).order_by(
            "pk"
        ).first() or BookingEvent.objects.create(
            booking=Booking.objects.filter(member__isnull=False).order_by("pk").first(),
            from_state="confirmed",
            to_state=state,
            note="Test",
        )
        senders[f"booking e-mail ({state})"] = partial(send_booking_event, event)
    for kind in (Invoice.Kind.INVOICE, Invoice.Kind.CREDIT_NOTE):
        senders[f"invoice e-mail ({kind})"] = partial(send_invoice, kind)
    senders["reminder e-mail"] = send_reminder
    return senders


def send_membership_event(event: MembershipEvent, language: str) -> bool:
    Member.objects.filter(pk=event.member_id).update(preferred_language=language)
    MembershipEvent.objects.filter(pk=event.pk).update(notified_at=None)
    return notify_membership_event(event=event)


def send_contract_event(event: ContractEvent, language: str) -> bool:
    Member.objects.filter(user=event.contract.created_by).update(preferred_language=language)
    ContractEvent.objects.filter(pk=event.pk).update(notified_at=None)
    return notify_contract_event(event=event)


def send_booking_event(event: BookingEvent, language: str) -> bool:
    Member.objects.filter(pk=event.booking.member_id).update(preferred_language=language)
    BookingEvent.objects.filter(pk=event.pk).update(notified_at=None)
    return send_booking_notice(event=event)


def issued_in(language: str, kind: str) -> Invoice | None:
    """The demo's largest issued document of a kind written in a language (an issued
    document's language never changes)."""
    return (
        Invoice.objects.filter(language=language, kind=kind, number__isnull=False)
        .order_by("-total_incl_vat", "pk")
        .first()
    )


def send_invoice(kind: str, language: str) -> bool | None:
    invoice = issued_in(language, kind)
    if invoice is None:
        return None
    for document in invoice.documents.exclude(status=DocumentStatus.READY):
        document.store(content=b"document", filename=f"{invoice.number}.{document.format}")
    dispatch = Dispatch.objects.create(
        invoice=invoice, channel=Dispatch.Channel.EMAIL, recipient="client@example.com"
    )
    return send_dispatch(dispatch=dispatch)


def send_reminder(language: str) -> bool:
    invoice = issued_in(language, Invoice.Kind.INVOICE)
    reminder, _ = Reminder.objects.get_or_create(
        invoice=invoice,
        level=1,
        defaults={"sent_on": invoice.due_date, "amount_due": invoice.total_incl_vat},
    )
    Reminder.objects.filter(pk=reminder.pk).update(emailed_at=None)
    return send_reminder_email(reminder=reminder)
