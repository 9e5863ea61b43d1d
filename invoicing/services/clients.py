"""Client records: one per legal entity, shared by the members who invoice it."""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError as StdnumError

from invoicing.errors import InvoicingError
from invoicing.models import Client
from members.models import User

# VAT numbers of Greece start with EL, not with the ISO country code GR.
VAT_PREFIX_EXCEPTIONS = {"GR": "EL"}


def clean_vat_number(value: str, *, country: str) -> str:
    """Return an EU VAT number in compact form (``BE0403019261``) or raise InvoicingError."""
    compact = "".join(character for character in (value or "").upper() if character.isalnum())
    if not compact:
        return ""
    if compact[:2].isdigit() and country == "BE":
        compact = f"BE{compact}"
    try:
        compact = eu_vat.validate(compact)
    except StdnumError as error:
        raise InvoicingError(
            _("This VAT number is not valid: check the country prefix and the digits."),
            code="vat_number",
            field="vat_number",
        ) from error
    expected_prefix = VAT_PREFIX_EXCEPTIONS.get(country, country)
    if compact[:2] != expected_prefix:
        raise InvoicingError(
            _("This VAT number belongs to another country than the client's address."),
            code="vat_country",
            field="vat_number",
        )
    return compact


def _identity(*, kind: str, country: str, vat_number: str, peppol_id: str) -> dict:
    vat_number = clean_vat_number(vat_number, country=country)
    if kind == Client.Kind.PERSON and vat_number:
        raise InvoicingError(
            _("A private person has no VAT number: choose “company” for a business."),
            code="person_vat",
            field="vat_number",
        )
    enterprise_number = vat_number[2:] if vat_number.startswith("BE") else ""
    if not peppol_id and enterprise_number:
        peppol_id = f"0208:{enterprise_number}"
    return {
        "vat_number": vat_number,
        "enterprise_number": enterprise_number,
        "peppol_id": peppol_id.strip(),
    }


@transaction.atomic
def create_client(
    *,
    user: User,
    kind: str,
    name: str,
    street: str,
    postal_code: str,
    city: str,
    country: str,
    email: str,
    language: str,
    vat_number: str = "",
    peppol_id: str = "",
    payment_terms_days: int = 30,
) -> tuple[Client, bool]:
    """Add a client, or find the existing record of the same legal entity by its VAT number.

    Return the client and whether it was created; an existing client becomes visible to the
    user who looked it up, and its details stay as they were.
    """
    country = country.upper()
    identity = _identity(kind=kind, country=country, vat_number=vat_number, peppol_id=peppol_id)
    if identity["vat_number"]:
        existing = Client.objects.filter(vat_number=identity["vat_number"]).first()
        if existing is not None:
            existing.added_by.add(user)
            return existing, False
    if not 0 <= payment_terms_days <= 120:
        raise InvoicingError(
            _("Payment terms are between 0 and 120 days."), code="terms", field="payment_terms_days"
        )
    try:
        with transaction.atomic():
            client = Client.objects.create(
                kind=kind,
                name=name.strip(),
                street=street.strip(),
                postal_code=postal_code.strip(),
                city=city.strip(),
                country=country,
                email=email.strip().lower(),
                language=language,
                payment_terms_days=payment_terms_days,
                **identity,
            )
    except IntegrityError as error:
        raise InvoicingError(
            _("A client with this VAT number was added at the same moment: try again."),
            code="duplicate",
            field="vat_number",
        ) from error
    client.added_by.add(user)
    return client, True


@transaction.atomic
def update_client(
    *,
    client: Client,
    name: str,
    street: str,
    postal_code: str,
    city: str,
    country: str,
    email: str,
    language: str,
    vat_number: str,
    peppol_id: str,
    payment_terms_days: int,
) -> Client:
    """Correct a client's details; issued invoices keep the details they were issued with."""
    country = country.upper()
    identity = _identity(
        kind=client.kind, country=country, vat_number=vat_number, peppol_id=peppol_id
    )
    if (
        identity["vat_number"]
        and Client.objects.filter(vat_number=identity["vat_number"]).exclude(pk=client.pk).exists()
    ):
        raise InvoicingError(
            _("Another client already has this VAT number."), code="duplicate", field="vat_number"
        )
    if not 0 <= payment_terms_days <= 120:
        raise InvoicingError(
            _("Payment terms are between 0 and 120 days."), code="terms", field="payment_terms_days"
        )
    client = Client.objects.select_for_update().get(pk=client.pk)
    client.name = name.strip()
    client.street = street.strip()
    client.postal_code = postal_code.strip()
    client.city = city.strip()
    client.country = country
    client.email = email.strip().lower()
    client.language = language
    client.payment_terms_days = payment_terms_days
    for field, value in identity.items():
        setattr(client, field, value)
    client.save()
    return client
