"""Reads scoped to the requesting user: another member's certificate is not found."""

from django.db.models import QuerySet

from members.models import User
from taxforms.models import TaxCertificate


def certificates_visible_to(user: User) -> QuerySet[TaxCertificate]:
    """The user's own current certificates (staff: all): tax figures are personal."""
    certificates = TaxCertificate.objects.filter(is_current=True).defer("snapshot")
    if user.is_staff:
        return certificates
    return certificates.filter(member__user=user)
