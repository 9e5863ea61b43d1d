"""Every kind of PDF the platform generates, short and very long, with the mentions each must show.

Used by tests/test_pdf_layout.py and benchmarks/pdf_layout.py. A document is built from its
snapshot alone (no database): ``DOCUMENTS[kind](length, language)`` returns the PDF's bytes and
the mentions the reader must find in it.
"""

import copy
import datetime
from collections.abc import Callable

from django.utils import timezone, translation
from django.utils.translation import gettext, pgettext

from contracts.models import Payslip
from contracts.pdf import render_payslip_pdf
from coop.templatetags.money import euro
from copyrights.models import CopyrightPayment, CopyrightStatement
from copyrights.pdf import render_statement_pdf
from invoicing.pdf import invoice_context, render_invoice_pdf
from tests.invoicing.snapshots import BELGIAN_COMPANY, make_snapshot

LANGUAGES = ("fr", "nl", "en")
LENGTHS = ("short", "long")
LONG_NAME = (
    "Compagnie théâtrale et chorégraphique des Rencontres Internationales de "
    "Saint-Josse-ten-Noode–Sint-Joost-ten-Node ASBL"
)
LONG_STREET = "Chaussée de Louvain / Leuvensesteenweg 1234, bâtiment C, 3e étage, boîte 17"
LONG_CITY = "Sint-Pieters-Woluwe / Woluwe-Saint-Pierre"
# A description as members type them: several lines, one very long word, other scripts, emoji.
LONG_DESCRIPTION = (
    "Conception lumière et régie générale pour la tournée « Les Nuits Blanches », "
    "répétitions comprises\n"
    "Lieu: Théâtre National Wallonie-Bruxelles, grande salle\n"
    "Référence-interne-du-projet-sans-aucune-espace-2026-0000000000001234567890\n"
    "Ωμέγα Привет 東京 😀"
)
LONG_REFERENCE = "BESTELLING-2026-ABCDEFGHIJ-0123456789"
PAGE_CONTEXT = "in the footer of every page of a document, before its number: page 2 / 3"


def invoice(length: str, language: str, *, document_type: str = "invoice") -> tuple[bytes, list]:
    """Render an invoice or a credit note; return its bytes and the mentions it must show."""
    is_credit_note = document_type == "credit_note"
    if length == "short":
        lines = [("Lighting design, rehearsals", "3", "hour", "19.99", "S", "21")]
        buyer = None
    else:
        rates = [("S", "21"), ("S", "6"), ("S", "12"), ("E", "0")]
        lines = [
            (
                LONG_DESCRIPTION if number % 10 == 0 else f"Performance {number}, evening show",
                str(number % 7 + 1),
                ("hour", "day", "piece")[number % 3],
                f"{1234 + number * 37}.{number:02d}",
                *rates[number % len(rates)],
            )
            for number in range(60)
        ]
        buyer = {
            **copy.deepcopy(BELGIAN_COMPANY),
            "name": LONG_NAME,
            "street": LONG_STREET,
            "city": LONG_CITY,
        }
    snapshot = make_snapshot(
        lines,
        buyer=buyer,
        language=language,
        document_type=document_type,
        number="NC-2026-000004" if is_credit_note else "2026-000123",
        credited_invoice={"number": "2026-000099", "issue_date": "2026-02-02"}
        if is_credit_note
        else None,
    )
    if length == "long":
        snapshot["buyer_reference"] = LONG_REFERENCE
        snapshot["order_reference"] = LONG_REFERENCE
        snapshot["supply_date"] = "2026-02-27"
        snapshot["note"] = "\n".join([LONG_DESCRIPTION] * 2)
        snapshot["member_name"] = "Marie-Françoise Vandenberghe-Van den Broeck de Saint-Étienne"
        snapshot["activity_name"] = "Théâtre de rue, arts forains et spectacles itinérants"
    mentions = invoice_mentions(snapshot)
    if length == "long":
        mentions += [LONG_REFERENCE, LONG_STREET, "Ωμέγα Привет 東京"]
    return render_invoice_pdf(snapshot), mentions


def invoice_mentions(snapshot) -> list[str]:
    """What an invoice or credit note must show: title, number, parties, totals, payment."""
    is_credit_note = snapshot["document_type"] == "credit_note"
    context = invoice_context(snapshot)
    seller, buyer = context["seller"], context["buyer"]
    with translation.override(snapshot["language"]):
        mentions = [
            gettext("Credit note") if is_credit_note else gettext("Invoice"),
            snapshot["number"],
            seller["name"],
            seller["enterprise_number_display"],
            seller["vat_number_display"],
            buyer["name"],
            *(euro(context["totals"][name]) for name in ("tax_exclusive", "vat", "payable")),
        ]
        # The footer of the first page: whose page it is.
        page = pgettext(PAGE_CONTEXT, "page")
        mentions.append(f"{mentions[0]} {snapshot['number']} · {page} 1 /")
        if is_credit_note:
            mentions.append(snapshot["credited_invoice"]["number"])
        else:
            mentions += [context["seller_iban"], snapshot["structured_communication"]]
    return mentions


def credit_note(length: str, language: str) -> tuple[bytes, list]:
    return invoice(length, language, document_type="credit_note")


def payslip_snapshot(length: str) -> dict:
    """A payslip's snapshot as payroll writes it (contracts.services.payroll)."""
    long = length == "long"
    days = 22 if long else 2
    start = datetime.date(2026, 3, 2)
    return {
        "employer": {
            "name": "coop SCE",
            "enterprise_number": "0403019261",
            "address": "Rue Ransfort 27, 1080 Bruxelles",
        },
        "member": {
            "name": "Marie-Françoise Vandenberghe-Van den Broeck de Saint-Étienne"
            if long
            else "Ana Peeters",
            "address": f"{LONG_STREET}, 1150 {LONG_CITY}"
            if long
            else "Rue Haute 120, 1000 Bruxelles",
            "niss": "**.**.**-***.42",
            "iban": "BE71 0961 2345 6769",
        },
        "contract": {
            "reference": "C-2026-000042",
            "title": "Création lumière du spectacle « Les Nuits Blanches », tournée en Wallonie "
            "et à Bruxelles, avec les répétitions"
            if long
            else "Lighting",
            "kind": "artistic",
            "place": LONG_CITY if long else "Bruxelles",
            "activity": "Théâtre de rue, arts forains et spectacles itinérants"
            if long
            else "Stage lighting",
        },
        "days": [
            [(start + datetime.timedelta(days=index)).isoformat(), "1" if index % 3 else "0.5"]
            for index in range(days)
        ],
        "daily_wage": "220.00",
        "figures": {
            "gross": "440.00",
            "personal_onss": "57.51",
            "work_bonus": "12.34",
            "taxable": "394.83",
            "withholding_tax": "43.21",
            "special_contribution": "0.00",
            "expenses": "31.80",
            "net": "383.42",
            "employer_cost": "562.88",
        },
        "month": {
            "start": "2026-03-01",
            "payslips": 3 if long else 1,
            "gross": "1320.00",
            "work_bonus": "37.02",
            "withholding_tax": "129.63",
            "special_contribution": "0.00",
        },
        "pay_date": "2026-03-10",
        "deadline": "2026-03-10",
        "unverified": ["withholding_tax"] if long else [],
        **(
            {"corrects": "P0000041", "reason": "Deux jours de répétition oubliés. " * 6}
            if long
            else {}
        ),
    }


def payslip(length: str, language: str) -> tuple[bytes, list]:
    snapshot = payslip_snapshot(length)
    document = Payslip(
        pk=42,
        kind="adjustment" if length == "long" else "regular",
        language=language,
        snapshot=snapshot,
        created_at=timezone.make_aware(datetime.datetime(2026, 3, 10, 9)),
    )
    return render_payslip_pdf(document), payslip_mentions(document)


def payslip_mentions(payslip: Payslip) -> list[str]:
    """What a payslip must show: title, reference, parties, national number (masked), net pay."""
    snapshot = payslip.snapshot
    with translation.override(payslip.language):
        return [
            gettext("Payslip adjustment") if payslip.kind == "adjustment" else gettext("Payslip"),
            payslip.reference,
            snapshot["employer"]["name"],
            snapshot["employer"]["enterprise_number"],
            snapshot["member"]["name"],
            snapshot["member"]["address"],
            # The national register number, masked: only its check digits.
            f"**.**.**-***.{snapshot['member']['niss'][-2:]}",
            snapshot["member"]["iban"],
            snapshot["contract"]["reference"],
            gettext("Net pay"),
            euro(snapshot["figures"]["net"]),
        ]


def copyright_statement(length: str, language: str) -> tuple[bytes, list]:
    long = length == "long"
    base = payslip_snapshot(length)
    snapshot = {
        "payer": base["employer"],
        "member": base["member"],
        "activity": base["contract"]["activity"],
        "contract": base["contract"]["reference"] if long else "",
        "work_kind": "stage" if long else "visual",
        "work_title": base["contract"]["title"] if long else "Poster",
        "income_year": 2026,
        "pay_date": "2026-03-10",
        "figures": {
            "gross": "25000.00",
            "salary_gross": "60000.00" if long else "0.00",
            "year_gross_before": "0.00",
            "first_bracket_costs": "9740.00",
            "second_bracket_costs": "1380.00",
            "lump_sum_costs": "11120.00",
            "taxable": "13880.00",
            "withholding": "2082.00",
            "net": "22918.00",
        },
        # The payslip's layout, whose fonts draw Latin, Greek and Cyrillic scripts.
        "source": LONG_DESCRIPTION.rsplit("\n", 1)[0] if long else "Programme law of 26.12.2022",
        "unverified": long,
    }
    document = CopyrightStatement(
        payment=CopyrightPayment(pk=42),
        language=language,
        snapshot=snapshot,
        created_at=timezone.make_aware(datetime.datetime(2026, 3, 10, 9)),
    )
    with translation.override(language):
        mentions = [
            gettext("Copyright statement"),
            document.reference,
            snapshot["payer"]["name"],
            snapshot["payer"]["enterprise_number"],
            snapshot["member"]["name"],
            f"**.**.**-***.{snapshot['member']['niss'][-2:]}",
            snapshot["member"]["iban"],
            gettext("Withholding tax on movable income"),
            euro(snapshot["figures"]["withholding"]),
            gettext("Amount paid"),
            euro(snapshot["figures"]["net"]),
        ]
    return render_statement_pdf(document), mentions


DOCUMENTS: dict[str, Callable[[str, str], tuple[bytes, list]]] = {
    "invoice": invoice,
    "credit note": credit_note,
    "payslip": payslip,
    "copyright statement": copyright_statement,
}
