"""Yearly tax certificates: prepare each beneficiary's fiche from the year's figures, export
the year's Belcotax-on-web file, render the certificates' PDFs."""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import Count, Max, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import record_event
from contracts.models import Payslip
from coop.documents import DocumentStatus
from members.models import Member, User
from taxforms import belcotax, sources
from taxforms.errors import TaxformsError
from taxforms.models import BelcotaxExport, Form, TaxCertificate

# One preparation or export of the tax forms at a time (pg_advisory_xact_lock key).
TAXFORMS_LOCK = 7_340_014
ZERO = Decimal("0.00")

# The figures each certificate holds, summed over the income year.
SALARY_FIGURES = (
    "gross",
    "personal_onss",
    "work_bonus",
    "taxable",
    "withholding_tax",
    "special_contribution",
)
COPYRIGHT_FIGURES = ("gross", "lump_sum_costs", "withholding")


def salary_amounts(figures: dict[str, Decimal]) -> dict[str, Decimal]:
    """Map a 281.10's figures to the elements of complexType Fiche28110 (prefix f10_)."""
    return {
        # f10_2060_gewonebezoldiginge: ordinary remuneration, the taxable pay (gross less the
        # personal social security contribution net of the work bonus). Gross pay and the
        # personal contribution have no zone of their own: they show on the PDF only.
        "2060_gewonebezoldiginge": figures["taxable"],
        # f10_2062_totaal: "le total des rubriques 9 a) + 9 b) + 9 c) + 9d)"; only a) is paid.
        "2062_totaal": figures["taxable"],
        # f10_2074_bedrijfsvoorheffing: the professional withholding tax.
        "2074_bedrijfsvoorheffing": figures["withholding_tax"],
        # f10_2075_bijzonderbijdrage: the special social security contribution (CSSS).
        "2075_bijzonderbijdrage": figures["special_contribution"],
        # f10_2115_bonus: the social work bonus (reduction of the personal contribution).
        "2115_bonus": figures["work_bonus"],
    }


def copyright_amounts(figures: dict[str, Decimal]) -> dict[str, Decimal]:
    """Map a 281.45's figures to the elements of complexType Fiche28145 (prefix f45_)."""
    return {
        # f45_2063_roerendevoorheffing: the 15 % withholding (précompte mobilier).
        "2063_roerendevoorheffing": figures["withholding"],
        # f45_2067_paidamount4: the gross income of rubric 4, paid or attributed.
        "2067_paidamount4": figures["gross"],
        # f45_2069_paidamount51: the lump-sum costs of rubric 5.
        "2069_paidamount51": figures["lump_sum_costs"],
    }


def _as_text(figures: dict[str, Decimal]) -> dict[str, str]:
    return {name: str(value.quantize(Decimal("0.01"))) for name, value in figures.items()}


def figures_of(certificate: TaxCertificate) -> dict[str, Decimal]:
    return {name: Decimal(value) for name, value in certificate.figures.items()}


def _year_bounds(year: int) -> tuple[datetime.date, datetime.date]:
    return datetime.date(year, 1, 1), datetime.date(year, 12, 31)


def salary_years(
    year: int, *, members: Iterable[int] | None = None
) -> dict[int, dict[str, Decimal]]:
    """Return each paid member's totals of the year's payslips (adjustments included), of
    ``members`` only when given."""
    start, end = _year_bounds(year)
    payslips = Payslip.objects.filter(pay_date__range=(start, end))
    if members is not None:
        payslips = payslips.filter(member__in=list(members))
    rows = (
        payslips.order_by()
        .values("member")
        .annotate(payslips=Count("pk"), **{name: Sum(name) for name in SALARY_FIGURES})
    )
    return {
        row["member"]: {name: row[name] or ZERO for name in SALARY_FIGURES}
        for row in rows
        if row["payslips"]
    }


@dataclass(frozen=True)
class Prepared:
    created: int
    corrected: int
    replaced: int
    unchanged: int


def _lock() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [TAXFORMS_LOCK])


def _snapshot(member: Member, *, year: int, today: datetime.date) -> dict:
    seller = settings.COOP_SELLER
    return {
        "employer": {
            "name": seller["name"],
            "address": f"{seller['street']}, {seller['postal_code']} {seller['city']}",
            "enterprise_number": seller["enterprise_number"],
        },
        "member": {
            "name": member.legal_name,
            "address": f"{member.street}, {member.postal_code} {member.city}",
            "niss": member.niss_masked,
        },
        "year": year,
        "created": today.isoformat(),
    }


@transaction.atomic
def prepare_certificates(
    *,
    year: int,
    staff_user: User | None,
    copyright_rows: Iterable[sources.CopyrightYear] | None = None,
    members: Iterable[int] | None = None,
    now: datetime.datetime | None = None,
) -> Prepared:
    """Write each beneficiary's 281.10 and 281.45 of the year from its figures.

    A fiche whose figures did not change is left alone; one not sent yet is replaced; one
    already sent in a Belcotax file gets a corrected version with the same fiche number, to
    send in the next file. ``copyright_rows`` defaults to ``sources.copyright_years(year)``.
    ``members`` (primary keys) limits the fiches written to theirs: a scaled world prepares its
    heavy members' only, not 100,000.
    """
    now = now or timezone.now()
    if not 2000 <= year <= now.year:
        raise TaxformsError(_("Choose an income year that has begun."), code="year")
    _lock()
    if copyright_rows is None:
        copyright_rows = sources.copyright_years(year)
    if members is not None:
        members = set(members)
        copyright_rows = [row for row in copyright_rows if row.member_id in members]
    wanted: dict[tuple[str, int], dict[str, str]] = {
        (Form.SALARY, member_pk): _as_text(figures)
        for member_pk, figures in salary_years(year, members=members).items()
    }
    for row in copyright_rows:
        wanted[(Form.COPYRIGHT, row.member_id)] = _as_text(
            {
                "gross": row.gross,
                "lump_sum_costs": row.lump_sum_costs,
                "withholding": row.withholding,
            }
        )
    current = {
        (certificate.form, certificate.member_id): certificate
        for certificate in TaxCertificate.objects.select_for_update()
        .filter(year=year, is_current=True)
        .defer("snapshot")
    }
    next_sequence = {
        form: (
            TaxCertificate.objects.filter(year=year, form=form).aggregate(last=Max("sequence"))[
                "last"
            ]
            or 0
        )
        + 1
        for form in Form.values
    }
    members = Member.objects.in_bulk({member_pk for _form, member_pk in wanted})
    today = timezone.localdate(now)
    created = corrected = replaced = unchanged = 0
    to_render: list[int] = []
    for (form, member_pk), figures in sorted(wanted.items(), key=lambda item: item[0]):
        member = members[member_pk]
        existing = current.get((form, member_pk))
        if existing is not None and existing.figures == figures:
            unchanged += 1
            continue
        snapshot = _snapshot(member, year=year, today=today)
        if existing is not None and existing.export_id is None:
            # Not declared yet: the fiche is simply brought up to date.
            existing.figures, existing.snapshot = figures, snapshot
            existing.status, existing.error, existing.attempts = DocumentStatus.PENDING, "", 0
            existing.language = member.preferred_language
            existing.save(
                update_fields=["figures", "snapshot", "status", "error", "attempts", "language"]
            )
            to_render.append(existing.pk)
            replaced += 1
            continue
        if existing is not None:
            existing.is_current = False
            existing.save(update_fields=["is_current"])
            sequence, version, corrects = existing.sequence, existing.version + 1, existing
            corrected += 1
        else:
            sequence, version, corrects = next_sequence[form], 1, None
            next_sequence[form] += 1
            created += 1
        certificate = TaxCertificate.objects.create(
            form=form,
            member=member,
            year=year,
            sequence=sequence,
            version=version,
            corrects=corrects,
            figures=figures,
            snapshot=snapshot,
            language=member.preferred_language,
            created_at=now,
        )
        to_render.append(certificate.pk)
    result = Prepared(created=created, corrected=corrected, replaced=replaced, unchanged=unchanged)
    record_event(
        action="prepared",
        object_type="taxforms.taxcertificate",
        object_pk=year,
        object_repr=_("Tax certificates %(year)s") % {"year": year},
        changes={
            "created": [None, created],
            "corrected": [None, corrected],
            "replaced": [None, replaced],
        },
        actor=staff_user,
    )
    _queue_rendering(to_render)
    return result


def _queue_rendering(pks: list[int]) -> None:
    from taxforms.tasks import render_certificate_task

    def enqueue() -> None:
        for pk in pks:
            render_certificate_task.delay(pk)

    if pks:
        transaction.on_commit(enqueue)


def party() -> belcotax.Party:
    """The cooperative as debtor of the income and sender of the file."""
    seller = settings.COOP_SELLER
    return belcotax.Party(
        name=seller["name"],
        street=seller["street"],
        postal_code=seller["postal_code"],
        city=seller["city"],
        phone=seller["phone"],
        email=seller["email"],
        contact=settings.COOP_BELCOTAX_CONTACT,
        enterprise_number=seller["enterprise_number"],
        language=settings.COOP_BELCOTAX_LANGUAGE,
    )


def _beneficiary(member: Member | None) -> belcotax.Beneficiary:
    if member is None:  # totals only
        return belcotax.Beneficiary("", "", "", "", "", "BE", "fr")
    return belcotax.Beneficiary(
        niss=member.niss,
        name=member.legal_name,
        street=member.street,
        postal_code=member.postal_code,
        city=member.city,
        country=member.country,
        language=member.preferred_language,
    )


def to_fiche(
    certificate: TaxCertificate, *, treatment: str, with_identity: bool = True
) -> belcotax.Fiche:
    figures = figures_of(certificate)
    if certificate.form == Form.SALARY:
        amounts, codes = salary_amounts(figures), {}
    else:
        # f45_2030_aardpersoon: the beneficiary is a natural person.
        amounts, codes = copyright_amounts(figures), {"2030_aardpersoon": "1"}
    return belcotax.Fiche(
        form=certificate.form,
        sequence=certificate.sequence,
        treatment=treatment,
        beneficiary=_beneficiary(certificate.member if with_identity else None),
        amounts=amounts,
        codes=codes,
    )


def unsent_certificates(year: int):
    """The current fiches of the year not yet in a Belcotax file, by fiche number."""
    return TaxCertificate.objects.filter(year=year, is_current=True, export__isnull=True).order_by(
        "form", "sequence"
    )


def treatment_of(certificate: TaxCertificate, *, year_declared: bool) -> str:
    if certificate.version > 1:
        return belcotax.MODIFICATION
    return belcotax.ADDITION if year_declared else belcotax.ORIGINAL


def year_is_declared(year: int) -> bool:
    return BelcotaxExport.objects.filter(year=year, is_test=False).exists()


def preview(year: int) -> tuple[belcotax.Totals, int]:
    """The totals of the file an export would write now, and how many fiches are corrections."""
    declared = year_is_declared(year)
    certificates = unsent_certificates(year).only("form", "sequence", "version", "figures")
    fiches = [
        to_fiche(c, treatment=treatment_of(c, year_declared=declared), with_identity=False)
        for c in certificates
    ]
    corrections = sum(1 for fiche in fiches if fiche.treatment == belcotax.MODIFICATION)
    return belcotax.file_totals(fiches), corrections


@transaction.atomic
def export_belcotax(
    *,
    year: int,
    staff_user: User | None,
    is_test: bool = False,
    now: datetime.datetime | None = None,
) -> BelcotaxExport:
    """Write the year's Belcotax-on-web file of every fiche not sent yet, checked by the XSD.

    A real file marks its fiches as sent: a later change to one of them becomes a corrected
    fiche (f2028_typetraitement 1) with the same fiche number. A test file (BCTEST) marks
    nothing.
    """
    now = now or timezone.now()
    _lock()
    certificates = list(unsent_certificates(year).select_for_update().select_related("member"))
    if not certificates:
        raise TaxformsError(
            _(
                "Nothing to export for %(year)s: prepare the certificates first, or every "
                "fiche was sent already."
            )
            % {"year": year},
            code="nothing_to_export",
        )
    if not_ready := [c.reference for c in certificates if not c.member.niss]:
        raise TaxformsError(
            _("These beneficiaries have no national register number: %(fiches)s.")
            % {"fiches": ", ".join(not_ready[:10])},
            code="niss_missing",
        )
    declared = year_is_declared(year)
    fiches = [to_fiche(c, treatment=treatment_of(c, year_declared=declared)) for c in certificates]
    content, totals = belcotax.build_file(
        year=year,
        fiches=fiches,
        party=party(),
        created=timezone.localdate(now),
        is_test=is_test,
    )
    errors = belcotax.validate(content, year=year)
    if errors:
        raise TaxformsError(
            _("The file does not match the Belcotax schema: %(errors)s")
            % {"errors": "; ".join(errors[:5])},
            code="schema",
        )
    export = BelcotaxExport(
        year=year,
        is_test=is_test,
        schema=belcotax.schema_label(year),
        fiche_count=len(fiches),
        correction_count=sum(1 for f in fiches if f.treatment == belcotax.MODIFICATION),
        sequence_total=totals.sequence_total,
        control_total=belcotax.euros(totals.control_total),
        withholding_total=belcotax.euros(totals.withholding_total),
        created_by=staff_user,
        created_at=now,
    )
    export.sha256 = belcotax.sha256(content)
    kind = "test" if is_test else "belcotax"
    export.file.save(f"{kind}-{year}-{now:%Y%m%d%H%M%S}.xml", ContentFile(content), save=False)
    export.save()
    if not is_test:
        TaxCertificate.objects.filter(pk__in=[c.pk for c in certificates]).update(export=export)
    record_event(
        action="exported",
        obj=export,
        actor=staff_user,
        changes={
            "fiches": [None, export.fiche_count],
            "corrections": [None, export.correction_count],
            "control_total": [None, str(export.control_total)],
            "withholding_total": [None, str(export.withholding_total)],
            "sha256": [None, export.sha256],
        },
    )
    return export
