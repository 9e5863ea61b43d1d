"""Client records: each member's own, linked by VAT number to the staff-side buyer record."""

import datetime
import re

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.jp import cn as jp_cn
from stdnum.util import get_cc_module

from audit.services import diff_fields, record_event
from invoicing import eas
from invoicing.countries import is_country
from invoicing.errors import InvoicingError
from invoicing.models import Buyer, Client
from invoicing.vat import is_eu, vat_prefix
from members.models import Member, User

VAT_NUMBER_MAX_LENGTH = Client._meta.get_field("vat_number").max_length or 20


def clean_country(value: str) -> str:
    """Return an ISO 3166-1 alpha-2 country code, or raise InvoicingError."""
    country = (value or "").strip().upper()
    if not is_country(country):
        raise InvoicingError(
            _("Choose the client's country from the list."), code="country", field="country"
        )
    return country


# Countries with no VAT (nor any tax number that could stand for one).
NO_VAT_COUNTRIES = frozenset(["US"])
# Japan's qualified invoice registration number: T and 13 digits.
JAPANESE_REGISTRATION_NUMBER = re.compile(r"T[0-9]{13}")
# A tax identifier of a country python-stdnum cannot check: 4 to 20 letters and digits.
OTHER_TAX_IDENTIFIER = re.compile(r"[A-Z0-9]{4,20}")


def _vat_refusal(message: str, code: str = "vat_number") -> InvoicingError:
    return InvoicingError(message, code=code, field="vat_number")


def clean_vat_number(value: str, *, country: str) -> str:
    """Return a VAT number in compact form, or raise InvoicingError.

    EU numbers (``BE0403019261``; Greek ones written GR or EL, stored EL) and those of countries
    whose scheme python-stdnum knows (``CHE116281710MWST``, ``GB980780684``) are checked digit
    by digit and carry their country prefix. Japan's registration number (``T`` and the 13
    digits of the corporate number) is checked by its check digit. The United States have no
    VAT, so a US client has no VAT number.
    Elsewhere the tax identifier is taken as typed, in capitals without spaces and dots, when it
    has 4 to 20 letters and digits, at least 3 of them digits; no country prefix is invented.
    """
    compact = "".join(character for character in (value or "").upper() if character.isalnum())
    if not compact:
        return ""
    if country in NO_VAT_COUNTRIES:
        raise _vat_refusal(
            _("The United States has no VAT: a client there has no VAT number."),
            code="no_vat_country",
        )
    if not compact.isascii():
        raise _vat_refusal(_("A VAT number has only letters and digits, without accents."))
    expected_prefix = vat_prefix(country)
    if compact[:2].isdigit() and country == "BE":
        compact = f"BE{compact}"
    if country == "GR" and compact.startswith("GR"):
        compact = f"EL{compact[2:]}"
    if country == "JP" and JAPANESE_REGISTRATION_NUMBER.fullmatch(compact):
        # The registration number of a company is T and its corporate number, check digit first.
        if not jp_cn.is_valid(compact[1:]):
            raise _vat_refusal(
                _(
                    "This registration number is not valid: check the 13 digits after the T "
                    "(the first one is a check digit)."
                )
            )
        return compact
    module = eu_vat if is_eu(country) else get_cc_module(country.lower(), "vat")
    if module is None:
        if not OTHER_TAX_IDENTIFIER.fullmatch(compact) or sum(c.isdigit() for c in compact) < 3:
            raise _vat_refusal(
                _(
                    "This tax number is not valid: write it as it is issued, with 4 to 20 "
                    "letters and digits, at least 3 of them digits."
                )
            )
        return compact
    try:
        compact = module.validate(compact)
    except StdnumError as error:
        raise _vat_refusal(
            _("This VAT number is not valid: check the country prefix and the digits.")
        ) from error
    if not is_eu(country) and not compact.startswith(country):
        # EN 16931 BR-CO-9: a VAT identifier starts with its country's code.
        compact = f"{country}{compact}"
    if len(compact) > VAT_NUMBER_MAX_LENGTH or not (compact.isascii() and compact.isalnum()):
        raise _vat_refusal(
            _("A VAT number has at most %(count)d letters and digits, without accents.")
            % {"count": VAT_NUMBER_MAX_LENGTH}
        )
    if compact[:2] != expected_prefix:
        raise _vat_refusal(
            _("This VAT number belongs to another country than the client's address."),
            code="vat_country",
        )
    return compact


def _enterprise_number(vat_number: str, country: str) -> str:
    """A Belgian VAT number's enterprise number; "" for any other tax number."""
    return vat_number[2:] if country == "BE" and vat_number.startswith("BE") else ""


def _identity(*, kind: str, country: str, vat_number: str, peppol_id: str, gln: str = "") -> dict:
    vat_number = clean_vat_number(vat_number, country=country)
    if kind == Client.Kind.PERSON and vat_number:
        raise InvoicingError(
            _("A private person has no VAT number: choose “company” for a business."),
            code="person_vat",
            field="vat_number",
        )
    enterprise_number = _enterprise_number(vat_number, country)
    peppol_id = peppol_id.strip()
    if not peppol_id and enterprise_number:
        peppol_id = f"0208:{enterprise_number}"
    if peppol_id:
        try:
            peppol_id = eas.check_participant_id(peppol_id)
        except ValueError as error:
            raise InvoicingError(str(error), code="peppol_id", field="peppol_id") from error
    try:
        gln = eas.clean_gln(gln or "")
    except ValueError as error:
        raise InvoicingError(
            _("This GLN is not valid: it has 13 digits, the last one a check digit."),
            code="gln",
            field="gln",
        ) from error
    # Belgian Peppol ids name the enterprise (0208) or its VAT number (9925): the client's own.
    scheme, _colon, identifier = peppol_id.partition(":")
    own = {"0208": enterprise_number, "9925": vat_number}.get(scheme)
    if vat_number and own is not None and identifier.upper() != own:
        raise InvoicingError(
            _("This Peppol id names another company than the VAT number: leave it empty."),
            code="peppol_id",
            field="peppol_id",
        )
    return {
        "vat_number": vat_number,
        "enterprise_number": enterprise_number,
        "peppol_id": peppol_id.strip(),
        "gln": gln,
    }


CLIENT_FIELDS = [
    "kind",
    "name",
    "street",
    "postal_code",
    "city",
    "country",
    "email",
    "language",
    "vat_number",
    "enterprise_number",
    "peppol_id",
    "gln",
    "payment_terms_days",
]


def _check_owner(owner: User | None) -> None:
    if owner is None or owner.is_staff:
        return
    member = Member.objects.filter(user=owner).first()
    if member is None or member.status != Member.Status.ACTIVE:
        raise InvoicingError(
            _("Only active members add clients: your membership is not active yet."),
            code="not_active",
        )


def _check_terms(payment_terms_days: int) -> None:
    if not 0 <= payment_terms_days <= 120:
        raise InvoicingError(
            _("Payment terms are between 0 and 120 days."), code="terms", field="payment_terms_days"
        )


def _buyer_for(vat_number: str, *, country: str) -> Buyer | None:
    """The staff-side record of the legal entity behind a VAT number, created bare if new."""
    if not vat_number:
        return None
    buyer, _created = Buyer.objects.get_or_create(
        vat_number=vat_number,
        defaults={"country": country, "enterprise_number": _enterprise_number(vat_number, country)},
    )
    # A tax number without country prefix may be another entity's in another country.
    return buyer if buyer.country == country else None


def look_up_vat_number(*, vat_number: str, country: str) -> dict:
    """Return the public identification of a VAT number: never what another member typed.

    The compact VAT number, enterprise number and Peppol id are derived from the number
    itself; the registered name and address come only from a buyer record whose
    identification staff have checked.
    """
    country = clean_country(country)
    identity = _identity(
        kind=Client.Kind.COMPANY, country=country, vat_number=vat_number, peppol_id=""
    )
    if not identity["vat_number"]:
        raise InvoicingError(_("Enter a VAT number."), code="vat_number", field="vat_number")
    identity.pop("gln")
    found = {**identity, "country": country, "verified": False}
    buyer = Buyer.objects.filter(
        vat_number=identity["vat_number"], country=country, verified_at__isnull=False
    ).first()
    if buyer is not None:
        found.update(
            verified=True,
            name=buyer.legal_name,
            street=buyer.street,
            postal_code=buyer.postal_code,
            city=buyer.city,
        )
    return found


@transaction.atomic
def create_client(
    *,
    owner: User | None,
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
    gln: str = "",
    payment_terms_days: int = 30,
) -> tuple[Client, bool]:
    """Add a client to the owner's own records (no owner: the cooperative's own client).

    Return the client and whether it was created: the owner's existing record with the same
    VAT number is returned unchanged. Another member's record of the same buyer is never
    looked at.
    """
    _check_owner(owner)
    country = clean_country(country)
    identity = _identity(
        kind=kind, country=country, vat_number=vat_number, peppol_id=peppol_id, gln=gln
    )
    if identity["vat_number"]:
        existing = Client.objects.filter(owner=owner, vat_number=identity["vat_number"]).first()
        if existing is not None:
            return existing, False
    _check_terms(payment_terms_days)
    try:
        with transaction.atomic():
            client = Client.objects.create(
                owner=owner,
                buyer=_buyer_for(identity["vat_number"], country=country),
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
    record_event(action="created", obj=client, changes=_client_values(client))
    return client, True


def _client_values(client: Client) -> dict:
    return {field: getattr(client, field) for field in CLIENT_FIELDS}


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
    gln: str | None = None,
) -> Client:
    """Correct the owner's record of a client; issued invoices keep what they were issued with."""
    country = clean_country(country)
    if client.enterprise_number and peppol_id.strip() == f"0208:{client.enterprise_number}":
        # The Peppol id was derived from the VAT number: derive it again from the new one.
        peppol_id = ""
    identity = _identity(
        kind=client.kind,
        country=country,
        vat_number=vat_number,
        peppol_id=peppol_id,
        gln=client.gln if gln is None else gln,
    )
    client = Client.objects.select_for_update().get(pk=client.pk)
    if (
        identity["vat_number"]
        and Client.objects.filter(owner=client.owner, vat_number=identity["vat_number"])
        .exclude(pk=client.pk)
        .exists()
    ):
        raise InvoicingError(
            _("You already have another client with this VAT number."),
            code="duplicate",
            field="vat_number",
        )
    _check_terms(payment_terms_days)
    before = _client_values(client)
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
    if client.vat_number != before["vat_number"]:
        client.buyer = _buyer_for(client.vat_number, country=country)
    client.save()
    changes = diff_fields(before, _client_values(client))
    if changes:
        record_event(action="changed", obj=client, changes=changes)
    return client


@transaction.atomic
def check_buyer_identification(*, buyer: Buyer, staff_user: User, now: datetime.datetime) -> Buyer:
    """Record that staff checked a buyer's registered name and address against its VAT number.

    From then on, members adding this VAT number get the name and address prefilled.
    """
    buyer = Buyer.objects.select_for_update().get(pk=buyer.pk)
    if not buyer.legal_name.strip():
        raise InvoicingError(
            _("Enter the registered name before marking the identification as checked."),
            code="legal_name",
            field="legal_name",
        )
    buyer.verified_at = now
    buyer.verified_by = staff_user
    buyer.save(update_fields=["verified_at", "verified_by"])
    record_event(action="approved", obj=buyer, reason="identification checked")
    return buyer
