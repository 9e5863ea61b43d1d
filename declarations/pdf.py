"""The yearly individual account (compte individuel) as a PDF in the member's language."""

import datetime

from django.conf import settings

from coop.pdf import render_pdf
from declarations.selectors import YearAccount


def account_context(account: YearAccount, *, today: datetime.date) -> dict:
    member = account.member
    return {
        "account": account,
        "member": member,
        "employer": settings.COOP_SELLER,
        "onss_number": settings.COOP_ONSS_NUMBER,
        "today": today,
        "reference": f"CI-{account.year}-{member.pk:07d}",
    }


def render_account_pdf(account: YearAccount, *, today: datetime.date) -> bytes:
    """Render the individual account in the member's preferred language."""
    return render_pdf(
        "declarations/pdf/individual_account.html",
        account_context(account, today=today),
        language=account.member.preferred_language,
    )
