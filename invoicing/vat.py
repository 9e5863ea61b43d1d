"""Belgian VAT treatment of an invoice line: category, supply kind, buyer, legal mention.

Which category applies depends on what is supplied (goods or services) and on who buys, from
where (DOMAIN.md §2):

- K: goods sent to a business in another EU member state, exempt (art. 39bis VAT Code,
  art. 138 Directive 2006/112/EC);
- AE: reverse charge: a service to a business established in another member state, taxed
  there (art. 21 §2 VAT Code, art. 196 Directive), or a Belgian supply whose buyer owes the VAT
  (art. 51 §2 VAT Code, such as construction work under art. 20 Royal Decree no. 1);
- G: goods exported outside the EU, exempt (art. 39 VAT Code);
- O: a service to a business outside the EU, outside the scope of Belgian VAT (art. 21 §2);
- E: exempt on another basis, which the member states (art. 44 VAT Code and others);
- S at 21, 12 or 6 %, Z at 0 %.

The legal mentions are the law's wording in each language of the invoices, kept here rather
than in the translation catalogs: a translator's rewording must never change a legal text.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from invoicing.calculation import STANDARD_RATES, VatCategory
from invoicing.errors import InvoicingError

HOME_COUNTRY = "BE"
# The 27 member states since 1 February 2020 (the United Kingdom left; Northern Ireland's
# special status for goods is not handled here). ISO 3166-1 codes.
EU_MEMBER_STATES = frozenset(
    {
        "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
        "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
    }
)  # fmt: skip
# VAT numbers of Greece start with EL, not with the ISO country code GR.
VAT_PREFIX_EXCEPTIONS = {"GR": "EL"}
STANDARD_RATE = Decimal("21.00")


class SupplyKind:
    """What a line supplies: it decides between the goods and the services rules."""

    GOODS = "goods"
    SERVICES = "services"

    CHOICES = [GOODS, SERVICES]


@dataclass(frozen=True)
class LegalMention:
    """A VAT mention in the languages of the invoices, with its VATEX code (CEF code list)."""

    code: str
    fr: str
    nl: str
    en: str

    def text(self, language: str) -> str:
        return getattr(self, language if language in ("fr", "nl", "en") else "fr")


INTRA_EU_GOODS = LegalMention(
    "VATEX-EU-IC",
    fr="Livraison intracommunautaire exonérée – art. 39bis du Code de la TVA",
    nl="Vrijgestelde intracommunautaire levering – art. 39bis W.btw",
    en="Exempt intra-Community supply – art. 39bis Belgian VAT Code",
)
INTRA_EU_REVERSE_CHARGE = LegalMention(
    "VATEX-EU-AE",
    fr="Autoliquidation – art. 196 de la directive 2006/112/CE",
    nl="Verlegging van heffing – art. 196 richtlijn 2006/112/EG",
    en="Reverse charge – Article 196 Directive 2006/112/EC",
)
DOMESTIC_REVERSE_CHARGE = LegalMention(
    "VATEX-EU-AE",
    fr="Autoliquidation – art. 51 §2 du Code de la TVA",
    nl="Verlegging van heffing – art. 51 §2 W.btw",
    en="Reverse charge – art. 51 §2 Belgian VAT Code",
)
EXPORT = LegalMention(
    "VATEX-EU-G",
    fr="Exportation exonérée – art. 39 du Code de la TVA",
    nl="Vrijgestelde uitvoer – art. 39 W.btw",
    en="Exempt export – art. 39 Belgian VAT Code",
)
OUTSIDE_SCOPE = LegalMention(
    "VATEX-EU-O",
    fr="Hors du champ d'application de la TVA belge – art. 21 §2 du Code de la TVA",
    nl="Buiten het toepassingsgebied van de Belgische btw – art. 21 §2 W.btw",
    en="Outside the scope of Belgian VAT – art. 21 §2 Belgian VAT Code",
)
# Common bases of an exemption (category E) in the cooperative's trades, offered to members;
# any other basis may be typed. Art. 44 §2 8° is a Belgian standstill exemption
# (art. 371 Directive) without a VATEX code of its own.
EXEMPTION_BASES = [
    LegalMention(
        "",
        fr="Exonération – art. 44 §2 8° du Code de la TVA (conférenciers, artistes exécutants)",
        nl="Vrijstelling – art. 44 §2 8° W.btw (sprekers, uitvoerende kunstenaars)",
        en="Exempt – art. 44 §2 8° Belgian VAT Code (lecturers, performing artists)",
    ),
    LegalMention(
        "VATEX-EU-132-1I",
        fr="Exonération – art. 44 §2 4° a) du Code de la TVA (enseignement, formation)",
        nl="Vrijstelling – art. 44 §2 4° a) W.btw (onderwijs, beroepsopleiding)",
        en="Exempt – art. 44 §2 4° a) Belgian VAT Code (education, vocational training)",
    ),
    LegalMention(
        "VATEX-EU-132-1J",
        fr="Exonération – art. 44 §2 4° b) du Code de la TVA (leçons particulières)",
        nl="Vrijstelling – art. 44 §2 4° b) W.btw (privélessen)",
        en="Exempt – art. 44 §2 4° b) Belgian VAT Code (private tuition)",
    ),
    LegalMention(
        "VATEX-EU-132-1C",
        fr="Exonération – art. 44 §1 du Code de la TVA (soins médicaux)",
        nl="Vrijstelling – art. 44 §1 W.btw (medische verzorging)",
        en="Exempt – art. 44 §1 Belgian VAT Code (medical care)",
    ),
]
EXEMPTION_CODES = sorted({basis.code for basis in EXEMPTION_BASES if basis.code})


def _words(text: str) -> str:
    return " ".join(text.split()).casefold()


# Each offered basis under its text in every language, for a reason picked from the list.
_OFFERED_BASES = {
    _words(basis.text(language)): basis
    for basis in EXEMPTION_BASES
    for language in ("fr", "nl", "en")
}


def is_eu(country: str) -> bool:
    return country in EU_MEMBER_STATES


def vat_prefix(country: str) -> str:
    """The prefix of a VAT number issued by a country (EL for Greece)."""
    return VAT_PREFIX_EXCEPTIONS.get(country, country)


def legal_mention(category: str, *, buyer_country: str) -> LegalMention | None:
    """Return the mention the law requires for a category and buyer, or None (S, Z, E)."""
    if category == VatCategory.INTRA_EU:
        return INTRA_EU_GOODS
    if category == VatCategory.REVERSE_CHARGE:
        if buyer_country == HOME_COUNTRY:
            return DOMESTIC_REVERSE_CHARGE
        return INTRA_EU_REVERSE_CHARGE
    if category == VatCategory.EXPORT:
        return EXPORT
    if category == VatCategory.OUTSIDE_SCOPE:
        return OUTSIDE_SCOPE
    return None


def exemption(
    category: str, *, reason: str, code: str, buyer_country: str, language: str
) -> tuple[str, str]:
    """Return the (reason, VATEX code) a line carries: the law's mention, else the member's."""
    mention = legal_mention(category, buyer_country=buyer_country)
    if mention is not None:
        return mention.text(language), mention.code
    if category == VatCategory.EXEMPT:
        # A basis picked from the offered ones is printed in the invoice's language; a basis
        # the member typed stays as typed.
        offered = _OFFERED_BASES.get(_words(reason))
        return (offered.text(language) if offered else reason.strip()), code
    return "", ""


RATE_NAMES = {
    VatCategory.ZERO_RATED: gettext_lazy("zero rate"),
    VatCategory.EXEMPT: gettext_lazy("exempt"),
    VatCategory.REVERSE_CHARGE: gettext_lazy("reverse charge"),
    VatCategory.INTRA_EU: gettext_lazy("intra-EU supply of goods"),
    VatCategory.EXPORT: gettext_lazy("export"),
    VatCategory.OUTSIDE_SCOPE: gettext_lazy("outside the scope of Belgian VAT"),
}


def rate_name(category: str, rate: Decimal) -> str:
    """Name a VAT rate as the VAT Code does: 21 % is the standard rate, 12 % and 6 % reduced."""
    if category == VatCategory.STANDARD:
        return str(_("standard rate") if rate == STANDARD_RATE else _("reduced rate"))
    return str(RATE_NAMES.get(category, category))


@dataclass(frozen=True)
class Customer:
    """What the VAT rules need to know about the client (the customer, in the directive's words)."""

    country: str
    vat_number: str
    is_business: bool


def customer_of(client) -> Customer:
    """The customer the VAT rules see in a client record."""
    return Customer(
        country=client.country, vat_number=client.vat_number, is_business=client.is_business
    )


def _refuse(message: str, *, code: str, field: str = "lines") -> None:
    raise InvoicingError(message, code=code, field=field)


def check_line(
    *, position: int, category: str, supply_kind: str, rate: Decimal, code: str, buyer: Customer
) -> None:
    """Refuse a line whose category does not fit its rate, its supply kind or the buyer."""
    where = {"position": position}
    if supply_kind not in SupplyKind.CHOICES:
        _refuse(
            _("Line %(position)d: say whether it supplies goods or services.") % where,
            code="supply_kind",
        )
    if category == VatCategory.STANDARD and rate not in STANDARD_RATES:
        _refuse(
            _("Line %(position)d: the Belgian VAT rates are 21 %%, 12 %% and 6 %%.") % where,
            code="vat_rate",
        )
    if category in VatCategory.ZERO_RATE and rate != 0:
        _refuse(_("Line %(position)d: this VAT category has a 0 %% rate.") % where, code="vat_rate")
    # Only an exemption (E) takes a code from the member; the others carry the law's own.
    if category == VatCategory.EXEMPT and code and code not in EXEMPTION_CODES:
        _refuse(
            _("Line %(position)d: this exemption code does not apply; leave it empty.") % where,
            code="exemption_code",
        )
    abroad = buyer.country != HOME_COUNTRY
    in_eu = is_eu(buyer.country)
    if category == VatCategory.INTRA_EU:
        _check_eu_business(buyer, where)
        if supply_kind != SupplyKind.GOODS:
            _refuse(
                _(
                    "Line %(position)d: category K is for goods sent to another EU country. A "
                    "service to a business in another EU country is reverse charged: choose AE."
                )
                % where,
                code="intra_eu_services",
            )
    elif category == VatCategory.REVERSE_CHARGE:
        if not buyer.vat_number:
            _refuse(
                _("Reverse charge and intra-EU invoices need the client's VAT number."),
                code="buyer_vat_required",
                field="client",
            )
        if abroad and not in_eu:
            _refuse(
                _(
                    "Line %(position)d: reverse charge applies within the EU. For a client "
                    "outside the EU, choose G for exported goods or O for services."
                )
                % where,
                code="reverse_charge_country",
            )
        if abroad:
            _check_eu_business(buyer, where)
            if supply_kind != SupplyKind.SERVICES:
                _refuse(
                    _(
                        "Line %(position)d: goods sent to a business in another EU country are "
                        "an intra-EU supply: choose K."
                    )
                    % where,
                    code="reverse_charge_goods",
                )
    elif category == VatCategory.EXPORT:
        if in_eu:
            _refuse(
                _("Line %(position)d: an export (G) goes to a client outside the EU.") % where,
                code="export_country",
                field="client",
            )
        if supply_kind != SupplyKind.GOODS:
            _refuse(
                _(
                    "Line %(position)d: category G is for exported goods; a service to a "
                    "business outside the EU is outside the scope of Belgian VAT: choose O."
                )
                % where,
                code="export_services",
            )
    elif category == VatCategory.OUTSIDE_SCOPE:
        _check_outside_scope(buyer, supply_kind, where)


def _check_eu_business(buyer: Customer, where: dict) -> None:
    if buyer.country == HOME_COUNTRY or not is_eu(buyer.country):
        _refuse(
            _("An intra-EU supply goes to a client in another EU country."),
            code="intra_eu_country",
            field="client",
        )
    if not buyer.vat_number:
        _refuse(
            _("Reverse charge and intra-EU invoices need the client's VAT number."),
            code="buyer_vat_required",
            field="client",
        )
    if buyer.vat_number[:2] != vat_prefix(buyer.country):
        _refuse(
            _(
                "Line %(position)d: the client's VAT number must be one of its own EU country, "
                "not a Belgian one."
            )
            % where,
            code="buyer_vat_country",
            field="client",
        )


def _check_outside_scope(buyer: Customer, supply_kind: str, where: dict) -> None:
    if buyer.country == HOME_COUNTRY:
        _refuse(
            _(
                "Line %(position)d: a supply to a client in Belgium is never outside the scope "
                "of Belgian VAT."
            )
            % where,
            code="outside_scope_country",
            field="client",
        )
    if is_eu(buyer.country):
        _refuse(
            _(
                "Line %(position)d: a service to a business in another EU country is reverse "
                "charged: choose AE."
            )
            % where,
            code="outside_scope_country",
            field="client",
        )
    if not buyer.is_business:
        _refuse(
            _(
                "Line %(position)d: only a service to a business outside the EU is outside the "
                "scope of Belgian VAT (art. 21 §2); ask staff about a private person."
            )
            % where,
            code="outside_scope_person",
            field="client",
        )
    if supply_kind != SupplyKind.SERVICES:
        _refuse(
            _("Line %(position)d: goods sent outside the EU are an export: choose G.") % where,
            code="outside_scope_goods",
        )


# Art. 21 §2: a service to a business is taxed where the business is established. Belgian VAT
# on a service to a business established abroad is then usually wrong, though not always (work
# on immovable property in Belgium, admission to an event held in Belgium…): staff check it.
PLACE_OF_SUPPLY_REVIEW = gettext_lazy(
    "Belgian VAT on a service to a business established abroad: check the place of supply "
    "(art. 21 §2)"
)


def charges_belgian_vat_abroad(buyer: Customer, lines: Iterable[tuple[str, str]]) -> bool:
    """Tell whether a line charges Belgian VAT (S) on a service to a business abroad.

    ``lines`` gives each line's (VAT category, supply kind). Goods are not concerned.
    """
    if not buyer.is_business or buyer.country == HOME_COUNTRY:
        return False
    return any(
        category == VatCategory.STANDARD and supply_kind == SupplyKind.SERVICES
        for category, supply_kind in lines
    )


def place_of_supply_warning(buyer: Customer, lines: Iterable[tuple[str, str]]) -> str:
    """Warn the member who charges Belgian VAT on a service to a business abroad, or ""."""
    if not charges_belgian_vat_abroad(buyer, lines):
        return ""
    if is_eu(buyer.country):
        return _(
            "Belgian VAT on a service to a business established in another EU country: such a "
            "service is taxed where the client is established (art. 21 §2 of the VAT Code). "
            "Unless an exception applies, choose AE (reverse charge). Staff will check the "
            "invoice before it is issued."
        )
    return _(
        "Belgian VAT on a service to a business established outside the EU: such a service is "
        "taxed where the client is established (art. 21 §2 of the VAT Code). Unless an "
        "exception applies, choose O (outside the scope of Belgian VAT). Staff will check the "
        "invoice before it is issued."
    )


def place_of_supply_refusal(buyer: Customer, lines: Iterable[tuple[str, str]]) -> str:
    """Why a document the client answers without staff's review (a quote) cannot charge
    Belgian VAT on a service to a business abroad, or "": the rule of
    ``place_of_supply_warning``, which holds an invoice for staff's check."""
    if not charges_belgian_vat_abroad(buyer, lines):
        return ""
    if is_eu(buyer.country):
        return _(
            "Belgian VAT on a service to a business established in another EU country: such a "
            "service is taxed where the client is established (art. 21 §2 of the VAT Code). "
            "Choose AE (reverse charge); if an exception applies, ask staff."
        )
    return _(
        "Belgian VAT on a service to a business established outside the EU: such a service is "
        "taxed where the client is established (art. 21 §2 of the VAT Code). Choose O (outside "
        "the scope of Belgian VAT); if an exception applies, ask staff."
    )


def check_invoice(categories: set[str]) -> None:
    """Refuse mixing out-of-scope lines with others (EN 16931 BR-O-11 to BR-O-14)."""
    if VatCategory.OUTSIDE_SCOPE in categories and len(categories) > 1:
        _refuse(
            _(
                "An invoice outside the scope of Belgian VAT (O) has only such lines: "
                "invoice the other lines separately."
            ),
            code="outside_scope_mixed",
        )
