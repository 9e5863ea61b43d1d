"""The tax forms' part of a member's data export and anonymisation (see audit/privacy.py).

Tax certificates are tax records the law keeps: anonymisation leaves them untouched.
"""

from coop.documents import DocumentStatus
from members.models import Member
from taxforms.models import TaxCertificate


def export_member_data(member: Member) -> dict:
    """Every version of the member's tax certificates, and their PDFs."""
    certificates = list(
        TaxCertificate.objects.filter(member=member).order_by("year", "form", "version")
    )
    return {
        "data": {
            "tax_certificates": [
                {
                    "reference": certificate.reference,
                    "form": certificate.form,
                    "year": certificate.year,
                    "fiche_number": certificate.sequence,
                    "version": certificate.version,
                    "is_current": certificate.is_current,
                    "figures": certificate.figures,
                    "sent": certificate.export_id is not None,
                }
                for certificate in certificates
            ]
        },
        "files": [
            (f"tax_certificates/{certificate.filename}", certificate.file)
            for certificate in certificates
            if certificate.status == DocumentStatus.READY and certificate.file
        ],
    }
