"""The tax certificate PDF layout (281.10, 281.45), filled from the stored figures."""

import datetime

from django.utils.translation import gettext_lazy as _

from coop.pdf import render_pdf
from taxforms.models import Form, TaxCertificate
from taxforms.services import figures_of

# Each line of a certificate: its figure, label and Belcotax zone ("" for information only).
LINES: dict[str, list] = {
    Form.SALARY: [
        ("gross", _("Gross pay"), ""),
        ("personal_onss", _("Personal social security contribution"), ""),
        ("work_bonus", _("Work bonus"), "2.115"),
        ("taxable", _("Taxable remuneration"), "2.60"),
        ("withholding_tax", _("Withholding tax"), "2.74"),
        ("special_contribution", _("Special social security contribution"), "2.75"),
    ],
    Form.COPYRIGHT: [
        ("gross", _("Gross copyright income"), "2.67"),
        ("lump_sum_costs", _("Lump-sum costs"), "2.69"),
        ("withholding", _("Withholding tax on movable income (15 %)"), "2.63"),
    ],
}


def certificate_context(certificate: TaxCertificate) -> dict:
    figures = figures_of(certificate)
    return {
        "certificate": certificate,
        "reference": certificate.reference,
        "snapshot": certificate.snapshot,
        "lines": [(label, zone, figures[name]) for name, label, zone in LINES[certificate.form]],
        "is_salary": certificate.form == Form.SALARY,
        "corrects": certificate.corrects.reference if certificate.corrects else "",
        "created": datetime.date.fromisoformat(certificate.snapshot["created"]),
    }


def render_certificate_pdf(certificate: TaxCertificate) -> bytes:
    """Render the certificate in the member's language."""
    return render_pdf(
        "taxforms/pdf/certificate.html",
        certificate_context(certificate),
        language=certificate.language,
    )
