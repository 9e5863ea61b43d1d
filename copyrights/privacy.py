"""The copyright app's part of a member's data export and anonymisation (see audit/privacy.py).

Copyright payments and their statements are tax records (the 281.45 and the withholding tax
return): anonymisation leaves them untouched.
"""

from django.utils.translation import ngettext

from audit.privacy import model_dict
from coop.documents import DocumentStatus
from copyrights.models import CopyrightPayment
from members.models import Member


def export_member_data(member: Member) -> dict:
    """The member's copyright payments with their figures, and their statements' PDFs."""
    payments = list(
        CopyrightPayment.objects.filter(member=member)
        .select_related("statement")
        .order_by("created_at", "pk")
    )
    files = []
    for payment in payments:
        statement = getattr(payment, "statement", None)
        if statement is not None and statement.status == DocumentStatus.READY and statement.file:
            files.append((f"copyright-statements/{statement.reference}.pdf", statement.file))
    return {
        "data": {
            "copyright_payments": [
                model_dict(payment, exclude=("member", "created_by", "decided_by"))
                for payment in payments
            ]
        },
        "files": files,
    }


def anonymisation_blockers(member: Member) -> list[str]:
    """Copyright payments still to be approved or paid."""
    count = CopyrightPayment.objects.filter(
        member=member,
        status__in=[CopyrightPayment.Status.SUBMITTED, CopyrightPayment.Status.APPROVED],
    ).count()
    if not count:
        return []
    return [
        ngettext(
            "%(count)d copyright payment is still to be approved or paid.",
            "%(count)d copyright payments are still to be approved or paid.",
            count,
        )
        % {"count": count}
    ]
