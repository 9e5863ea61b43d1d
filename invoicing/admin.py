"""Where staff work on invoicing: review, credit notes, payments, bank statements, receivables."""

import datetime
from collections.abc import Callable
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.db import DEFAULT_DB_ALIAS
from django.db.models import (
    Count,
    Exists,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Value,
    prefetch_related_objects,
)
from django.db.models.functions import Coalesce
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from kombu.exceptions import OperationalError as KombuOperationalError

from audit.admin import (
    CappedCountPaginator,
    ChangePageQueryMixin,
    ObjectAction,
    ObjectActionsMixin,
    PageLimitMixin,
    ParentInlineFormSet,
    audit_history_link,
    member_filter,
)
from coop.admin_formats import LocalisedFieldsMixin
from coop.db import reads_from_replica
from coop.errors import CoopError
from coop.templatetags.money import euro
from invoicing import guarantee_fund, selectors
from invoicing.countries import country_choices, country_name
from invoicing.eas import check_participant_id
from invoicing.errors import InvoicingError
from invoicing.models import (
    BankAccount,
    BankStatement,
    BankStatementLine,
    Buyer,
    Client,
    Dispatch,
    Invoice,
    InvoiceAllowanceCharge,
    InvoiceDocument,
    InvoiceLine,
    Payment,
    RecurringInvoice,
    RecurringInvoiceLine,
    RecurringInvoiceRun,
    Refund,
    RefundPaymentFile,
    Reminder,
)
from invoicing.services.clients import check_buyer_identification, clean_vat_number
from invoicing.services.credit import credit_note_problem, credit_position, request_credit_note
from invoicing.services.issue import approve_invoice, reject_invoice
from invoicing.services.payments import (
    check_payment_amount,
    check_payment_date,
    import_bank_statement,
    payment_note,
    record_payment,
    set_aside_bank_line,
)
from invoicing.services.recurring import pause_recurring_invoice
from invoicing.services.refunds import (
    create_refund_payment_file,
    over_payment_refundable,
    record_refund,
    refundable_amount,
    request_refund,
)
from invoicing.tasks import refresh_guarantee_fund_task

ZERO = Decimal("0.00")
# An issued invoice's page shows this many lines; its PDF has every line.
LINES_SHOWN = 200
AGEING_BUCKETS = [
    ("not_due", _("Not yet due"), None, 0),
    ("days_1_30", _("1–30 days late"), 1, 30),
    ("days_31_60", _("31–60 days late"), 31, 60),
    ("days_61_90", _("61–90 days late"), 61, 90),
    ("days_over_90", _("More than 90 days late"), 91, None),
]


class ReadOnlyInline(LocalisedFieldsMixin, admin.TabularInline):
    formset = ParentInlineFormSet
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class LineInline(ReadOnlyInline):
    model = InvoiceLine
    fields = [
        "position",
        "description",
        "quantity",
        "unit",
        "unit_price",
        "supply_kind",
        "vat_category",
        "vat_rate",
        "exemption_reason",
        "exemption_code",
        "discount",
        "vat_correction_shown",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        # A heavy invoice's page shows its first lines, not thousands of them.
        return super().get_queryset(request).filter(position__lte=LINES_SHOWN)

    @admin.display(description=_("discount"))
    def discount(self, line: InvoiceLine) -> str:
        if not line.allowance_amount:
            return "—"
        if line.allowance_percent is not None:
            return gettext("%(percent)s %% (%(amount)s): %(reason)s") % {
                "percent": line.allowance_percent,
                "amount": euro(line.allowance_amount),
                "reason": line.allowance_reason,
            }
        return f"{euro(line.allowance_amount)}: {line.allowance_reason}"

    @admin.display(description=_("VAT correction"))
    def vat_correction_shown(self, line: InvoiceLine) -> str:
        """On the credit note that completes a line or VAT group: the cents of VAT it adjusts."""
        return euro(line.vat_correction) if line.vat_correction else "—"


class AllowanceChargeInline(ReadOnlyInline):
    model = InvoiceAllowanceCharge
    fields = ["position", "is_charge", "reason", "percent", "amount", "vat_category", "vat_rate"]
    readonly_fields = fields


class DocumentInline(ReadOnlyInline):
    model = InvoiceDocument
    fields = ["format", "status", "download", "sha256", "attempts", "error", "rendered_at"]
    readonly_fields = fields

    @admin.display(description=_("file"))
    def download(self, document: InvoiceDocument) -> str:
        # Documents are not served from MEDIA_URL: the invoice's download views check who asks.
        if not document.file:
            return "—"
        view = "invoice_pdf" if document.format == InvoiceDocument.Format.PDF else "invoice_ubl"
        url = reverse(f"invoicing:{view}", args=[document.invoice_id])
        return format_html('<a href="{}">{}</a>', url, document.file.name.rsplit("/", 1)[-1])


class PaymentInline(ReadOnlyInline):
    model = Payment
    fields = ["received_on", "amount", "method", "note", "recorded_by"]
    readonly_fields = fields

    def get_queryset(self, request):
        # The latest payment first, as in the list of payments.
        return (
            super()
            .get_queryset(request)
            .select_related("recorded_by")
            .order_by("-received_on", "-pk")
        )


class RefundInline(ReadOnlyInline):
    model = Refund
    fk_name = "credit_note"
    fields = ["amount", "method", "status", "client_iban", "paid_on", "bank_reference"]
    readonly_fields = fields


class OverPaymentRefundInline(RefundInline):
    fk_name = "invoice"
    verbose_name = _("refund of the over-payment")
    verbose_name_plural = _("refunds of the over-payment")


class PaymentFileRefundInline(RefundInline):
    fk_name = "payment_file"
    fields = ["credit_note", "invoice", *RefundInline.fields]
    readonly_fields = fields


class DispatchInline(ReadOnlyInline):
    model = Dispatch
    fields = ["created_at", "channel", "recipient", "status", "reference", "sent_at", "error"]
    readonly_fields = fields


def communication_terms(term: str) -> list[str]:
    """A structured communication as typed and, from its 12 digits, as it is stored."""
    digits = "".join(character for character in term if character.isdigit())
    terms = {term}
    if len(digits) == 12:
        terms.add(f"+++{digits[:3]}/{digits[3:7]}/{digits[7:]}+++")
    return sorted(terms)


def compact_vat_number(term: str) -> str:
    """A search term that is a VAT number (two letters, then digits mostly), compact, or ""."""
    compact = "".join(character for character in term.upper() if character.isalnum())
    digits = sum(character.isdigit() for character in compact)
    if len(compact) >= 8 and compact[:2].isalpha() and digits >= len(compact) - 4:
        return compact
    return ""


def compact_iban(term: str) -> str:
    """A search term that is an IBAN (country, check digits, account), compact, or ""."""
    compact = "".join(character for character in term.upper() if character.isalnum())
    if len(compact) >= 15 and compact[:2].isalpha() and compact[2:4].isdigit():
        return compact
    return ""


class InvoiceSearchMixin:
    """Search invoices on indexed columns only: a number or structured communication in full
    (unique indexes), else a part of the client's name (trigram index)."""

    invoice_path = ""  # from the admin's model to the invoice, "" on Invoice itself
    search_help_text = _(
        "An invoice number or structured communication in full, or a part of the client's name."
    )

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        prefix = f"{self.invoice_path}__" if self.invoice_path else ""
        if any(character.isdigit() for character in term):
            return queryset.filter(
                Q(**{f"{prefix}number": term})
                | Q(**{f"{prefix}structured_communication__in": communication_terms(term)})
            ), False
        return queryset.filter(**{f"{prefix}client__name__contains_any_case": term}), False


class ReminderInline(ReadOnlyInline):
    model = Reminder
    fields = ["level", "sent_on", "amount_due", "emailed_at"]
    readonly_fields = fields


class ReadOnlyAdminMixin:
    """A record staff read but never add, change or delete in the admin."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ServiceAddMixin:
    """An add form whose save calls a service: a refusal shows as a message, nothing is saved."""

    def add_view(self, request, form_url="", extra_context=None):
        try:
            return super().add_view(request, form_url, extra_context)
        except CoopError as error:
            self.message_user(request, error.message, messages.ERROR)
            return redirect(request.get_full_path())


class ReviewForm(admin.helpers.ActionForm):
    reason = forms.CharField(label=_("Reason"), required=False)


class OverdueFilter(admin.SimpleListFilter):
    title = _("overdue")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [
            ("yes", _("Overdue")),
            ("formal_notice", _("Formal notice due")),
            ("overpaid", _("Overpaid: refund the client")),
        ]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(
                kind=Invoice.Kind.INVOICE,
                status__in=[Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID],
                due_date__lt=timezone.localdate(),
            )
        if self.value() == "formal_notice":
            return queryset.filter(
                formal_notice_due_at__isnull=False,
                status__in=[Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID],
            )
        if self.value() == "overpaid":
            return queryset.filter(
                kind=Invoice.Kind.INVOICE, number__isnull=False, amount_due__lt=0
            )
        return queryset


def credit_comparison_table(invoice: Invoice) -> SafeString:
    """Each line of the credited invoice beside what credit notes take from it, as HTML.

    The template escapes what it shows: its output is safe as it is.
    """
    credit_note = invoice if invoice.is_credit_note else None
    original = invoice.credited_invoice if credit_note else invoice
    position = credit_position(original, credit_note=credit_note)
    this_excl = credit_note.total_excl_vat if credit_note else ZERO
    this_vat = credit_note.total_vat if credit_note else ZERO
    problem = ""
    if credit_note and credit_note.status == Invoice.Status.PENDING_REVIEW:
        problem = credit_note_problem(credit_note, position)
    return render_to_string(
        "admin/invoicing/invoice/credit_comparison.html",
        {
            "position": position,
            "credit_note": credit_note,
            "left_excl_vat": original.total_excl_vat - position.credited_excl_vat - this_excl,
            "left_vat": original.total_vat - position.credited_vat - this_vat,
            "problem": problem,
        },
    )


class CreditNoteReviewForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for sending it back"),
        required=False,
        max_length=255,
        help_text=_("Only needed to send the credit note back."),
    )


def pending_review(invoice: Invoice) -> bool:
    return invoice.status == Invoice.Status.PENDING_REVIEW


def creditable(invoice: Invoice) -> bool:
    return invoice.kind == Invoice.Kind.INVOICE and invoice.status in (
        Invoice.Status.ISSUED,
        Invoice.Status.PARTIALLY_PAID,
        Invoice.Status.PAID,
    )


@admin.register(Invoice)
class InvoiceAdmin(
    ObjectActionsMixin,
    ChangePageQueryMixin,
    PageLimitMixin,
    InvoiceSearchMixin,
    LocalisedFieldsMixin,
    admin.ModelAdmin,
):
    """Invoices are read-only here: staff act on them through the actions, from the list or
    from a document's page."""

    show_full_result_count = False  # a count of the whole table is too slow
    paginator = CappedCountPaginator
    action_form = ReviewForm
    list_display = [
        "display_number",
        "kind",
        "status",
        "client",
        "activity",
        "issue_date",
        "due_date",
        "total_incl_vat",
        "amount_due_display",
    ]
    list_filter = [
        "status",
        "kind",
        OverdueFilter,
        "issue_date",
        member_filter("activity__owner_id"),
    ]
    search_fields = ["number", "client__name__contains_any_case"]  # see InvoiceSearchMixin
    list_select_related = ["client", "activity"]
    # The newest first by the primary key's index: sorting millions of invoices on another
    # column (issue date, client...) is not offered.
    ordering = ["-pk"]
    sortable_by = []
    inlines = [
        LineInline,
        AllowanceChargeInline,
        DocumentInline,
        PaymentInline,
        RefundInline,
        OverPaymentRefundInline,
        DispatchInline,
        ReminderInline,
    ]
    actions = ["approve", "reject", "credit_in_full"]
    object_actions = {
        "approve": ObjectAction(_("Approve and issue"), pending_review),
        "reject": ObjectAction(_("Send back to the member"), pending_review),
        "credit_in_full": ObjectAction(_("Request a full credit note"), creditable),
    }
    fields = [
        "kind",
        "status",
        "number",
        "activity",
        "client",
        "credited_invoice",
        "issue_date",
        "due_date",
        "supply_date",
        "period_start",
        "period_end",
        "buyer_reference",
        "order_reference",
        "structured_communication",
        "notes",
        "total_excl_vat",
        "total_vat",
        "total_incl_vat",
        "lines_shown",
        "review_reason_display",
        "created_by",
        "submitted_at",
        "issued_at",
        "issued_by",
        "formal_notice_due_at",
        "credit_comparison",
        "audit_history",
    ]
    readonly_fields = fields
    change_select_related = ("activity", "client", "credited_invoice", "created_by", "issued_by")

    # The documents each invoice picker offers: issued ones, of the kind the field holds, found
    # by number, structured communication or client name (see InvoiceSearchMixin).
    autocomplete_kinds = {
        ("payment", "invoice"): Invoice.Kind.INVOICE,
        ("bankstatementline", "invoice"): Invoice.Kind.INVOICE,
        ("refund", "invoice"): Invoice.Kind.INVOICE,
        ("refund", "credit_note"): Invoice.Kind.CREDIT_NOTE,
    }

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        match = request.resolver_match
        if match is not None and match.url_name == "autocomplete":
            field = (request.GET.get("model_name"), request.GET.get("field_name"))
            if field in self.autocomplete_kinds:
                # Nothing before a number or a name is typed: among millions of documents,
                # the latest twenty are no help, and credit notes are too rare to page through.
                kind = self.autocomplete_kinds[field]
                if not search_term.strip() or (
                    # Credit notes, a few among the client's invoices, by their number only.
                    kind == Invoice.Kind.CREDIT_NOTE
                    and not any(character.isdigit() for character in search_term)
                ):
                    return queryset.none(), False
                queryset = queryset.filter(kind=kind, number__isnull=False)
        return queryset, may_have_duplicates

    def get_change_queryset(self, request):
        lines = (
            InvoiceLine.objects.filter(invoice=OuterRef("pk"))
            .order_by()
            .values("invoice")
            .annotate(count=Count("pk"))
            .values("count")
        )
        return (
            super()
            .get_change_queryset(request)
            .defer("credited_invoice__snapshot")
            .annotate(
                line_count=Coalesce(Subquery(lines), Value(0)),
                has_credit_notes=Exists(Invoice.objects.filter(credited_invoice=OuterRef("pk"))),
                has_over_payment_refunds=Exists(Refund.objects.filter(invoice=OuterRef("pk"))),
            )
        )

    def get_object(self, request, object_id, from_field=None):
        invoice = super().get_object(request, object_id, from_field)
        if invoice is None:
            return None
        documents = [invoice] if invoice.line_count <= LINES_SHOWN else []
        if invoice.has_credit_notes:
            credit_notes = Invoice.objects.defer("snapshot")
            prefetch_related_objects([invoice], Prefetch("credit_notes", queryset=credit_notes))
            documents += invoice.credit_notes.all()
        # The lines are read once for the lines' inline (when it shows them all) and the table
        # of credited lines, with those of the credit notes.
        prefetch_related_objects(documents, "lines", "allowance_charges")
        return invoice

    def get_inlines(self, request, obj):
        """Show the inlines that apply to the document.

        Payments, reminders and refunds of an over-payment belong to invoices (those refunds
        once one is requested, from the refunds' page); refunds of what a credit note leaves
        owed belong to credit notes. The services never attach them to the other kind.
        """
        if obj is None:
            return self.inlines
        left_out = {OverPaymentRefundInline} if obj.is_credit_note else {RefundInline}
        if obj.is_credit_note:
            left_out |= {PaymentInline, ReminderInline}
        elif not obj.has_over_payment_refunds:
            left_out.add(OverPaymentRefundInline)
        return [inline for inline in self.inlines if inline not in left_out]

    @admin.display(description=_("lines"))
    def lines_shown(self, invoice: Invoice) -> str:
        count = invoice.line_count
        if count <= LINES_SHOWN:
            return str(count)
        return gettext("%(count)d lines: the first %(shown)d are shown below, the PDF has all.") % {
            "count": count,
            "shown": LINES_SHOWN,
        }

    @admin.display(description=_("why staff review it"))
    def review_reason_display(self, invoice: Invoice) -> str:
        return invoice.review_reason_text or "—"

    @admin.display(description=_("audit"))
    def audit_history(self, invoice: Invoice):
        return audit_history_link(invoice)

    @admin.display(description=_("credited lines"))
    def credit_comparison(self, invoice: Invoice):
        if not invoice.is_credit_note and not invoice.has_credit_notes:
            return "—"
        table = credit_comparison_table(invoice)
        if invoice.is_credit_note and invoice.status == Invoice.Status.PENDING_REVIEW:
            url = reverse("admin:invoicing_invoice_review", args=[invoice.pk])
            return format_html(
                '{}<p><a class="button" href="{}">{}</a></p>',
                table,
                url,
                gettext("Review and issue this credit note"),
            )
        return table

    def get_urls(self):
        return [
            path(
                "<int:pk>/review/",
                self.admin_site.admin_view(self.review_view),
                name="invoicing_invoice_review",
            ),
            *super().get_urls(),
        ]

    def review_view(self, request, pk: int):
        """Staff compare a requested credit note with the invoice, then issue or send it back."""
        credit_note = get_object_or_404(
            Invoice.objects.select_related("credited_invoice", "activity", "client"),
            pk=pk,
            kind=Invoice.Kind.CREDIT_NOTE,
        )
        if not self.has_view_permission(request, credit_note):
            return redirect("admin:index")
        form = CreditNoteReviewForm(request.POST or None)
        change_url = reverse("admin:invoicing_invoice_change", args=[credit_note.pk])
        if request.method == "POST" and form.is_valid():
            try:
                if "reject" in request.POST:
                    reject_invoice(
                        staff_user=request.user,
                        invoice=credit_note,
                        reason=form.cleaned_data["reason"],
                    )
                    done = gettext("The credit note was sent back.")
                else:
                    credit_note = approve_invoice(staff_user=request.user, invoice=credit_note)
                    done = gettext("Credit note %(number)s issued.") % {
                        "number": credit_note.number
                    }
            except CoopError as error:
                form.add_error(None, error.message)
            else:
                self.message_user(request, done, messages.SUCCESS)
                return redirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Review credit note: %(invoice)s")
            % {"invoice": credit_note.credited_invoice},
            "opts": self.model._meta,
            "credit_note": credit_note,
            "comparison": credit_comparison_table(credit_note),
            "form": form,
            "change_url": change_url,
            "can_decide": credit_note.status == Invoice.Status.PENDING_REVIEW,
        }
        return TemplateResponse(request, "admin/invoicing/invoice/review.html", context)

    def get_queryset(self, request):
        # The issued content (JSON snapshot) is never shown here: it is not read either.
        return super().get_queryset(request).with_amounts().defer("snapshot")

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and super().has_change_permission(request)

    @admin.display(description=_("number"), ordering="number")
    def display_number(self, invoice: Invoice) -> str:
        return invoice.number or gettext("(not issued)")

    @admin.display(description=_("amount due"), ordering="amount_due")
    def amount_due_display(self, invoice: Invoice) -> str:
        if not invoice.is_issued or invoice.is_credit_note:
            return "—"
        if invoice.amount_due < 0:
            return format_html(
                '<a href="{}?invoice={}">{}</a>',
                reverse("admin:invoicing_refund_add"),
                invoice.pk,
                gettext("Overpaid by %(amount)s: refund the client")
                % {"amount": euro(-invoice.amount_due)},
            )
        return euro(invoice.amount_due)

    def _each(self, request, queryset, action, done_message: Callable[[int], str]) -> None:
        done = 0
        for invoice in queryset:
            try:
                action(invoice)
            except CoopError as error:
                self.message_user(request, f"{invoice}: {error.message}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(request, done_message(done) % {"count": done}, messages.SUCCESS)

    @admin.action(description=_("Approve and issue the selected documents"), permissions=["view"])
    def approve(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda invoice: approve_invoice(staff_user=request.user, invoice=invoice),
            lambda count: ngettext(
                "%(count)d document issued.", "%(count)d documents issued.", count
            ),
        )

    @admin.action(description=_("Send back to the member (give a reason)"), permissions=["view"])
    def reject(self, request, queryset):
        reason = request.POST.get("reason", "")
        self._each(
            request,
            queryset,
            lambda invoice: reject_invoice(staff_user=request.user, invoice=invoice, reason=reason),
            lambda count: ngettext(
                "%(count)d invoice sent back.", "%(count)d invoices sent back.", count
            ),
        )

    @admin.action(
        description=_("Request a full credit note (give a reason; a colleague approves it)"),
        permissions=["view"],
    )
    def credit_in_full(self, request, queryset):
        reason = request.POST.get("reason", "")
        self._each(
            request,
            queryset,
            lambda invoice: request_credit_note(user=request.user, invoice=invoice, reason=reason),
            lambda count: ngettext(
                "%(count)d credit note requested: another staff member approves it.",
                "%(count)d credit notes requested: another staff member approves them.",
                count,
            ),
        )


class CountryFilter(admin.SimpleListFilter):
    """The countries present, by name in the reader's language."""

    title = _("country")
    parameter_name = "country"

    def lookups(self, request, model_admin):
        # From the list of countries: a DISTINCT over every client would read them all.
        return country_choices()

    def queryset(self, request, queryset):
        return queryset.filter(country=self.value()) if self.value() else queryset


@admin.display(description=_("country"), ordering="country")
def country_display(obj) -> str:
    return country_name(obj.country)


class ClientAdminForm(forms.ModelForm):
    """Staff pick the country by name; the VAT number is checked as members' are."""

    country = forms.ChoiceField(label=_("Country"), choices=country_choices)

    def clean(self):
        cleaned = super().clean()
        if "country" in cleaned and "vat_number" in cleaned:
            try:
                cleaned["vat_number"] = clean_vat_number(
                    cleaned["vat_number"], country=cleaned["country"]
                )
            except InvoicingError as error:
                self.add_error("vat_number", error.message)
        if cleaned.get("peppol_id"):
            try:
                cleaned["peppol_id"] = check_participant_id(cleaned["peppol_id"])
            except ValueError as error:
                self.add_error("peppol_id", str(error))
        return cleaned


@admin.register(Client)
class ClientAdmin(PageLimitMixin, admin.ModelAdmin):
    """Members' own client records; the cooperative-wide view of a buyer is on Buyer."""

    form = ClientAdminForm
    list_display = ["name", "owner", "kind", "vat_number", "city", country_display, "email"]
    list_filter = ["kind", CountryFilter, "language"]
    # A part of the name (trigram index); an e-mail address: see get_search_results.
    search_fields = ["name__contains_any_case"]
    search_help_text = _(
        "A part of the name, or in full a VAT number or the owner's e-mail address."
    )
    list_select_related = ["owner"]
    ordering = ["name", "pk"]  # client_admin_name_idx
    sortable_by = ["name"]
    autocomplete_fields = ["owner"]
    readonly_fields = ["buyer", "enterprise_number", "peppol_reachability", "created_at"]
    show_full_result_count = False
    paginator = CappedCountPaginator

    def has_delete_permission(self, request, obj=None) -> bool:
        return obj is None or not obj.invoices.exists()

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if "@" in term:
            return queryset.filter(owner__email__in=sorted({term, term.lower()})), False
        vat_number = compact_vat_number(term)
        if vat_number:
            # Through the buyer of that VAT number (its unique index), then its clients.
            return queryset.filter(buyer__vat_number=vat_number), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description=_("Peppol"))
    def peppol_reachability(self, obj: Client) -> str:
        if obj.peppol_endpoint:
            return _("Reachable on Peppol as %(endpoint)s.") % {"endpoint": obj.peppol_endpoint}
        return _(
            "Not reachable on Peppol: invoices are EN 16931 e-invoices sent by e-mail with the PDF."
        )


class BuyerVerifiedFilter(admin.SimpleListFilter):
    title = _("identification")
    parameter_name = "checked"

    def lookups(self, request, model_admin):
        return [("yes", _("Checked")), ("no", _("Not checked"))]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(verified_at__isnull=self.value() == "no")
        return queryset


IDENTIFICATION_FIELDS = ["legal_name", "street", "postal_code", "city"]


@admin.register(Buyer)
class BuyerAdmin(ObjectActionsMixin, admin.ModelAdmin):
    """The cooperative's record of each legal entity members invoice: identity and standing."""

    list_display = ["vat_number", "legal_name", country_display, "is_checked"]
    list_filter = [BuyerVerifiedFilter, CountryFilter]
    # A VAT number in full (unique index), else a part of the name (buyer_name_trgm).
    search_fields = ["legal_name__contains_any_case"]
    search_help_text = _("A VAT number in full, or a part of the name.")
    fields = [
        "vat_number",
        "enterprise_number",
        "legal_name",
        "street",
        "postal_code",
        "city",
        "country",
        "verified_at",
        "verified_by",
        "standing",
        "staff_notes",
        "created_at",
    ]
    readonly_fields = [
        "vat_number",
        "enterprise_number",
        "country",
        "verified_at",
        "verified_by",
        "standing",
        "created_at",
    ]
    actions = ["check_identification"]
    object_actions = {
        "check_identification": ObjectAction(
            _("Mark the identification as checked"), lambda buyer: not buyer.is_verified
        )
    }
    show_full_result_count = False
    paginator = CappedCountPaginator

    def has_add_permission(self, request) -> bool:
        # Buyers come from the VAT numbers of members' clients.
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_search_results(self, request, queryset, search_term):
        vat_number = compact_vat_number(search_term.strip())
        if vat_number:
            return queryset.filter(vat_number=vat_number), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(boolean=True, description=_("identification checked"))
    def is_checked(self, obj: Buyer) -> bool:
        return obj.is_verified

    @admin.display(description=_("standing"))
    def standing(self, obj: Buyer) -> str:
        figures = selectors.buyer_standing(obj, today=timezone.localdate())
        return format_html(
            "{}<br>{}<br>{}",
            ngettext(
                "Invoiced by %(count)d member.",
                "Invoiced by %(count)d members.",
                figures["members"],
            )
            % {"count": figures["members"]},
            gettext("%(count)s open invoices: %(outstanding)s outstanding, %(overdue)s overdue.")
            % {
                "count": figures["open_invoices"],
                "outstanding": euro(figures["outstanding"]),
                "overdue": euro(figures["overdue"]),
            },
            gettext("%(late)s of %(count)s paid invoices were paid late.")
            % {"late": figures["paid_late"], "count": figures["paid_invoices"]},
        )

    def save_model(self, request, obj, form, change):
        # Changed registered details are no longer the checked ones: members' look-ups stop
        # prefilling them until someone checks the identification again.
        if obj.is_verified and set(form.changed_data) & set(IDENTIFICATION_FIELDS):
            obj.verified_at = obj.verified_by = None
            self.message_user(
                request,
                gettext("The identification changed: check it again before members see it."),
                messages.WARNING,
            )
        super().save_model(request, obj, form, change)

    @admin.action(description=_("Mark the identification as checked"))
    def check_identification(self, request, queryset):
        checked = 0
        for buyer in queryset:
            try:
                check_buyer_identification(buyer=buyer, staff_user=request.user, now=timezone.now())
            except CoopError as error:
                self.message_user(request, f"{buyer.vat_number}: {error.message}", messages.ERROR)
            else:
                checked += 1
        if checked:
            self.message_user(
                request,
                ngettext(
                    "%(count)d identification checked.",
                    "%(count)d identifications checked.",
                    checked,
                )
                % {"count": checked},
                messages.SUCCESS,
            )


class PaymentForm(forms.ModelForm):
    class Meta:
        model = Payment
        fields = ["invoice", "amount", "received_on", "note"]

    def clean(self):
        cleaned = super().clean()
        invoice, received_on = cleaned.get("invoice"), cleaned.get("received_on")
        if invoice is not None and received_on is not None:
            try:
                check_payment_date(
                    invoice=invoice, received_on=received_on, today=timezone.localdate()
                )
            except CoopError as error:
                self.add_error("received_on", error.message)
        amount = cleaned.get("amount")
        if invoice is not None and amount is not None:
            try:
                # The service checks again under the invoice's lock.
                check_payment_amount(invoice=invoice, amount=amount)
            except CoopError as error:
                self.add_error("amount", error.message)
        return cleaned


@admin.register(Payment)
class PaymentAdmin(
    PageLimitMixin, InvoiceSearchMixin, ServiceAddMixin, LocalisedFieldsMixin, admin.ModelAdmin
):
    """Payments are recorded here by hand; the service posts income and fee to the ledger."""

    show_full_result_count = False  # a count of the whole table is too slow
    paginator = CappedCountPaginator
    form = PaymentForm
    list_display = ["received_on", "invoice", "amount", "method", "recorded_by"]
    list_filter = ["method", "received_on"]
    invoice_path = "invoice"
    search_fields = [  # see InvoiceSearchMixin
        "invoice__number",
        "invoice__client__name__contains_any_case",
    ]
    list_select_related = ["invoice", "recorded_by"]
    autocomplete_fields = ["invoice"]
    # The most recently received first, by payment_admin_received_idx (a payment recorded
    # late, for money received days ago, takes its place by date).
    ordering = ["-received_on", "-pk"]
    sortable_by = []

    def get_queryset(self, request):
        return super().get_queryset(request).defer("invoice__snapshot")

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change):
        payment = record_payment(
            invoice=obj.invoice,
            amount=obj.amount,
            received_on=obj.received_on,
            note=obj.note,
            actor=request.user,
        )
        obj.pk = payment.pk


class RefundRequestForm(forms.ModelForm):
    class Meta:
        model = Refund
        fields = ["credit_note", "invoice", "amount", "client_iban", "account_holder", "method"]
        help_texts = {
            "account_holder": _("The client's name as the bank knows it; empty: the buyer's."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "account_holder" in self.fields:
            self.fields["account_holder"].required = False


class RefundActionForm(admin.helpers.ActionForm):
    # Read by the action, which says what is wrong with it: a date field refused here would
    # make the admin answer "No action selected." instead.
    paid_on = forms.CharField(
        label=_("Paid on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    bank_reference = forms.CharField(label=_("Bank reference"), required=False, max_length=140)


@admin.register(Refund)
class RefundAdmin(ObjectActionsMixin, ServiceAddMixin, LocalisedFieldsMixin, admin.ModelAdmin):
    """Money owed back to clients for credit notes: requested, sent, recorded paid.

    Another staff member than who requested a refund puts it in a payment file or records it;
    nobody handles the refunds of an Activity they take part in.
    """

    form = RefundRequestForm
    action_form = RefundActionForm
    list_display = [
        "credit_note",
        "invoice",
        "amount",
        "account_holder",
        "client_iban",
        "method",
        "status",
        "requested_by",
        "payment_file",
        "paid_on",
        "bank_reference",
    ]
    list_filter = ["status", "method"]
    # In full: a credit note's or an invoice's number, the bank's reference, the client's IBAN;
    # each by an index (see get_search_results).
    search_fields = ["=bank_reference"]
    search_help_text = _(
        "In full: the number of the credit note or invoice, the bank reference or the client's "
        "IBAN."
    )
    list_select_related = ["credit_note", "invoice", "requested_by", "payment_file"]
    autocomplete_fields = ["credit_note", "invoice"]
    # The newest request first, by the primary key's index (requested_at has none).
    ordering = ["-pk"]
    sortable_by = []
    actions = ["make_payment_file", "mark_paid"]
    object_actions = {
        "make_payment_file": ObjectAction(
            _("Put in a payment file"),
            lambda refund: (
                refund.status == Refund.Status.REQUESTED
                and refund.method == Refund.Method.SEPA_TRANSFER
            ),
        ),
        "mark_paid": ObjectAction(
            _("Record as paid"), lambda refund: refund.status not in Refund.SETTLED_STATUSES
        ),
    }
    show_full_result_count = False
    paginator = CappedCountPaginator
    readonly_fields = [
        "credit_note",
        "invoice",
        "refundable",
        "amount",
        "account_holder",
        "client_iban",
        "method",
        "status",
        "payment_file",
        "paid_on",
        "bank_reference",
        "requested_by",
        "requested_at",
        "settled_by",
        "settled_at",
        "audit_history",
    ]

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        iban = compact_iban(term)
        if iban:
            return queryset.filter(client_iban=iban), False
        return queryset.filter(
            Q(credit_note__number=term) | Q(invoice__number=term) | Q(bank_reference=term)
        ), False

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["credit_note", "invoice", "amount", "client_iban", "account_holder", "method"]
        return self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return self.localised_fields(self.readonly_fields) if obj is not None else []

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("audit"))
    def audit_history(self, refund: Refund):
        return audit_history_link(refund)

    @admin.display(description=_("still owed to the client for this credit note or invoice"))
    def refundable(self, refund: Refund) -> str:
        if refund.credit_note:
            return euro(refundable_amount(refund.credit_note))
        return euro(over_payment_refundable(refund.invoice))

    def save_model(self, request, obj, form, change):
        refund = request_refund(
            staff_user=request.user,
            credit_note=obj.credit_note,
            invoice=obj.invoice,
            amount=obj.amount,
            client_iban=obj.client_iban,
            account_holder=obj.account_holder,
            method=obj.method,
        )
        obj.pk = refund.pk

    @admin.action(
        description=_("Put the selected SEPA refunds in a payment file"), permissions=["view"]
    )
    def make_payment_file(self, request, queryset):
        try:
            payment_file = create_refund_payment_file(
                staff_user=request.user,
                refunds=list(queryset),
                execution_date=timezone.localdate(),
            )
        except CoopError as error:
            self.message_user(request, error.message, messages.ERROR)
            return
        self.message_user(
            request,
            ngettext(
                "Payment file %(file)s made with %(count)d refund: upload it to the bank.",
                "Payment file %(file)s made with %(count)d refunds: upload it to the bank.",
                payment_file.transfer_count,
            )
            % {"file": payment_file.message_id, "count": payment_file.transfer_count},
            messages.SUCCESS,
        )

    @admin.action(
        description=_("Record as paid (give the date and the bank reference)"),
        permissions=["view"],
    )
    def mark_paid(self, request, queryset):
        try:
            paid_on = forms.DateField().clean(request.POST.get("paid_on", ""))
        except forms.ValidationError:
            self.message_user(request, gettext("Give the date of payment."), messages.ERROR)
            return
        reference = request.POST.get("bank_reference", "").strip()
        done = 0
        for refund in queryset:
            try:
                record_refund(
                    staff_user=request.user,
                    refund=refund,
                    paid_on=paid_on,
                    bank_reference=reference
                    if queryset.count() == 1
                    else f"{reference} REFUND-{refund.pk}".strip(),
                )
            except CoopError as error:
                self.message_user(request, f"{refund}: {error.message}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(
                request,
                ngettext("%(count)d refund recorded.", "%(count)d refunds recorded.", done)
                % {"count": done},
                messages.SUCCESS,
            )


@admin.register(RefundPaymentFile)
class RefundPaymentFileAdmin(ReadOnlyAdminMixin, LocalisedFieldsMixin, admin.ModelAdmin):
    list_display = ["message_id", "execution_date", "transfer_count", "total", "created_by"]
    fields = [
        "message_id",
        "execution_date",
        "transfer_count",
        "total",
        "download",
        "created_by",
        "created_at",
    ]
    readonly_fields = fields
    inlines = [PaymentFileRefundInline]

    @admin.display(description=_("SEPA file"))
    def download(self, payment_file: RefundPaymentFile) -> str:
        url = reverse("admin:invoicing_refundpaymentfile_sepa", args=[payment_file.pk])
        return format_html('<a href="{}">{}</a>', url, payment_file.file.name.rsplit("/", 1)[-1])

    def get_urls(self):
        return [
            path(
                "<int:pk>/sepa/",
                self.admin_site.admin_view(self.sepa_view),
                name="invoicing_refundpaymentfile_sepa",
            ),
            *super().get_urls(),
        ]

    def sepa_view(self, request, pk: int):
        """The refunds' transfers (pain.001), to upload to the bank."""
        payment_file = RefundPaymentFile.objects.filter(pk=pk).first()
        if payment_file is None or not self.has_view_permission(request, payment_file):
            raise Http404
        return FileResponse(
            payment_file.file.open("rb"),
            as_attachment=True,
            filename=payment_file.file.name.rsplit("/", 1)[-1],
            content_type="application/xml",
        )


class BankStatementUploadForm(forms.Form):
    file = forms.FileField(label=_("CAMT.053 file"))


@admin.register(Dispatch)
class DispatchAdmin(PageLimitMixin, InvoiceSearchMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Every sending of an invoice, to find the failed ones and why (an e-invoice kept off
    Peppol for breaking a validation rule, a buyer without Peppol address)."""

    show_full_result_count = False  # a count of the whole table is too slow
    paginator = CappedCountPaginator
    list_display = ["created_at", "invoice", "channel", "recipient", "status", "sent_at", "error"]
    list_filter = ["status", "channel"]
    list_select_related = ["invoice"]
    invoice_path = "invoice"
    search_fields = [  # see InvoiceSearchMixin
        "invoice__number",
        "invoice__client__name__contains_any_case",
    ]
    ordering = ["-pk"]  # the newest first, by the primary key's index
    sortable_by = []

    def get_queryset(self, request):
        return super().get_queryset(request).defer("invoice__snapshot")

    fields = [
        "invoice",
        "channel",
        "recipient",
        "status",
        "error",
        "reference",
        "requested_by",
        "created_at",
        "sent_at",
    ]
    readonly_fields = fields


@admin.register(BankAccount)
class BankAccountAdmin(admin.ModelAdmin):
    """The cooperative's accounts: a bank statement of any other account is refused."""

    list_display = ["label", "identifier", "active"]
    list_filter = ["active"]
    search_fields = ["label", "iban", "other_id"]
    fields = ["label", "iban", "other_id", "other_scheme", "other_issuer", "active"]

    def has_delete_permission(self, request, obj=None) -> bool:
        # Statements keep pointing to their account: one no longer used is made inactive.
        return False

    @admin.display(description=_("account"))
    def identifier(self, account: BankAccount) -> str:
        return account.identifier


@admin.register(BankStatement)
class BankStatementAdmin(admin.ModelAdmin):
    list_display = [
        "statement_id",
        "account_iban",
        "bank_account",
        "imported_at",
        "imported_by",
        "to_review",
        "unmatched",
    ]
    list_select_related = ["bank_account", "imported_by"]
    readonly_fields = [
        "account_iban",
        "bank_account",
        "statement_id",
        "filename",
        "imported_by",
        "imported_at",
        "line_summary",
    ]
    # A statement may have thousands of lines: its page counts them and links to their list.
    change_list_template = "admin/invoicing/bankstatement/change_list.html"

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        # Counted per statement shown from bankline_admin_open_idx (the few open lines), not
        # by joining every line of every statement.
        def open_lines(status):
            counted = (
                BankStatementLine.objects.filter(statement=OuterRef("pk"), status=status)
                .order_by()
                .values("statement")
                .annotate(count=Count("pk"))
                .values("count")
            )
            return Coalesce(Subquery(counted), Value(0))

        lines = BankStatementLine.Status
        return (
            super()
            .get_queryset(request)
            .annotate(
                unmatched_count=open_lines(lines.UNMATCHED),
                to_review_count=open_lines(lines.TO_REVIEW),
            )
        )

    @admin.display(description=_("lines left for staff"))
    def unmatched(self, statement: BankStatement) -> int:
        return statement.unmatched_count

    @admin.display(description=_("lines to review"))
    def to_review(self, statement: BankStatement) -> int:
        return statement.to_review_count

    @admin.display(description=_("lines"))
    def line_summary(self, statement: BankStatement):
        if statement.pk is None:
            return "—"
        counts = dict(statement.lines.order_by().values_list("status").annotate(count=Count("pk")))
        url = reverse("admin:invoicing_bankstatementline_changelist")
        return format_html_join(
            " · ",
            '<a href="{}?statement__id__exact={}&amp;status__exact={}">{}: {}</a>',
            (
                (url, statement.pk, status, label, counts.get(status, 0))
                for status, label in BankStatementLine.Status.choices
            ),
        )

    def get_urls(self):
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="invoicing_bankstatement_import",
            ),
            *super().get_urls(),
        ]

    def import_view(self, request):
        """Upload a CAMT.053 file and match its payments."""
        if not self.has_view_permission(request):
            return redirect("admin:index")
        form = BankStatementUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                statements = import_bank_statement(
                    data=upload.read(), filename=upload.name, actor=request.user
                )
            except CoopError as error:
                form.add_error("file", error.message)
            else:
                lines = BankStatementLine.objects.filter(statement__in=statements)
                self.message_user(
                    request,
                    gettext(
                        "Payments matched: %(matched)d. Lines to review before matching: "
                        "%(review)d. Other lines left for staff: %(unmatched)d."
                    )
                    % {
                        "matched": lines.filter(status=BankStatementLine.Status.MATCHED).count(),
                        "review": lines.filter(status=BankStatementLine.Status.TO_REVIEW).count(),
                        "unmatched": lines.filter(
                            status=BankStatementLine.Status.UNMATCHED
                        ).count(),
                    },
                    messages.SUCCESS,
                )
                return redirect("admin:invoicing_bankstatement_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Import a bank statement"),
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/invoicing/bankstatement/import.html", context)


# Lines staff can still match to an invoice by hand.
OPEN_LINE_STATUSES = [BankStatementLine.Status.UNMATCHED, BankStatementLine.Status.TO_REVIEW]


class BankStatementLineForm(forms.ModelForm):
    paid_before_issue_checked = forms.BooleanField(
        label=_("I checked it: the client paid this invoice before it was issued"),
        required=False,
        help_text=_(
            "Needed only to match a line booked before the invoice's issue date (an advance)."
        ),
    )

    class Meta:
        model = BankStatementLine
        fields = ["invoice"]

    def clean(self):
        cleaned = super().clean()
        invoice = cleaned.get("invoice")
        if invoice is not None and self.instance.status in OPEN_LINE_STATUSES:
            try:
                check_payment_date(
                    invoice=invoice,
                    received_on=self.instance.booking_date,
                    today=timezone.localdate(),
                    before_issue_checked=cleaned.get("paid_before_issue_checked", False),
                )
            except CoopError as error:
                if error.code != "before_issue":
                    self.add_error("invoice", error.message)
                else:
                    # Said beside the checkbox, in its own words: ticking it is the way through.
                    self.add_error(
                        "paid_before_issue_checked",
                        gettext(
                            "Booked on %(date)s, before invoice %(number)s was issued on "
                            "%(issued)s. If you checked that the client did pay this invoice "
                            "before it was issued, tick “%(label)s” and save again."
                        )
                        % {
                            "date": formats.date_format(
                                self.instance.booking_date, "SHORT_DATE_FORMAT"
                            ),
                            "number": invoice.number,
                            "issued": formats.date_format(invoice.issue_date, "SHORT_DATE_FORMAT"),
                            "label": self.fields["paid_before_issue_checked"].label,
                        },
                    )
        return cleaned


@admin.register(BankStatementLine)
class BankStatementLineAdmin(
    ObjectActionsMixin, PageLimitMixin, LocalisedFieldsMixin, admin.ModelAdmin
):
    """Lines left for staff, and lines to review: match them to an invoice by hand."""

    show_full_result_count = False  # a count of the whole table is too slow
    paginator = CappedCountPaginator
    form = BankStatementLineForm
    list_display = [
        "booking_date",
        "amount",
        "counterparty_name",
        "structured_communication",
        "free_text",
        "status",
        "invoice",
        "reason",
    ]
    list_filter = ["status", "is_credit", "booking_date"]
    # A structured communication (bankline_admin_ogm_idx) or the payer's IBAN
    # (bankline_admin_iban_idx) in full.
    search_fields = ["=structured_communication"]
    search_help_text = _("A structured communication or the payer's IBAN, in full.")
    list_select_related = ["invoice"]
    ordering = ["-pk"]  # the newest first, by the primary key's index
    sortable_by = []
    readonly_fields = [
        "statement",
        "booking_date",
        "amount",
        "is_credit",
        "structured_communication",
        "free_text",
        "counterparty_name",
        "counterparty_iban",
        "bank_reference",
        "status",
        "note",
    ]
    autocomplete_fields = ["invoice"]
    actions = ["set_aside"]
    object_actions = {
        "set_aside": ObjectAction(
            _("Set aside: not a client payment"), lambda line: line.status in OPEN_LINE_STATUSES
        )
    }

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).defer("invoice__snapshot")

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        iban = compact_iban(term)
        if iban:
            return queryset.filter(counterparty_iban=iban), False
        return queryset.filter(structured_communication__in=communication_terms(term)), False

    @admin.action(description=_("Set aside: not a client payment"))
    def set_aside(self, request, queryset) -> None:
        done = 0
        for line in queryset:
            try:
                set_aside_bank_line(line=line, actor=request.user)
            except CoopError as error:
                self.message_user(
                    request,
                    _("%(line)s: %(error)s") % {"line": line, "error": error.message},
                    messages.WARNING,
                )
            else:
                done += 1
        if done:
            self.message_user(
                request,
                ngettext("%(count)d line set aside.", "%(count)d lines set aside.", done)
                % {"count": done},
                messages.SUCCESS,
            )

    @admin.display(description=_("reason or note"))
    def reason(self, line: BankStatementLine) -> str:
        return line.note

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        line = self.get_object(request, object_id) if object_id else None
        if line is not None and line.status not in OPEN_LINE_STATUSES:
            # A matched or set-aside line is only shown: nothing of it is saved from here.
            if request.method == "POST":
                self.message_user(
                    request,
                    gettext("This line is closed (%(status)s): its invoice cannot be changed here.")
                    % {"status": line.get_status_display()},
                    messages.ERROR,
                )
                return HttpResponseRedirect(request.get_full_path())
            extra_context = {
                **(extra_context or {}),
                "show_save": False,
                "show_save_and_continue": False,
                "show_save_and_add_another": False,
            }
        return super().changeform_view(request, object_id, form_url, extra_context)

    def get_fields(self, request, obj=None):
        if obj is not None and obj.status in OPEN_LINE_STATUSES:
            return [*self.readonly_fields, "invoice", "paid_before_issue_checked"]
        return [*self.readonly_fields, "invoice"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status not in OPEN_LINE_STATUSES:
            return self.localised_fields([*self.readonly_fields, "invoice"])
        return self.localised_fields(self.readonly_fields)

    def save_model(self, request, obj, form, change):
        if obj.invoice is None or obj.status not in OPEN_LINE_STATUSES:
            return
        checked = form.cleaned_data.get("paid_before_issue_checked", False)
        note = (
            gettext("Matched by hand: paid before the invoice was issued, checked")
            if checked and obj.booking_date < obj.invoice.issue_date
            else gettext("Matched by hand")
        )
        try:
            record_payment(
                invoice=obj.invoice,
                amount=obj.amount,
                received_on=obj.booking_date,
                actor=request.user,
                method=Payment.Method.BANK_STATEMENT,
                bank_line=obj,
                note=note,
                before_issue_checked=checked,
            )
        except CoopError as error:
            self.message_user(request, error.message, messages.ERROR)
            return
        obj.status = BankStatementLine.Status.MATCHED
        left = payment_note(obj.invoice)
        obj.note = f"{note}. {left}" if left else note
        obj.save(update_fields=["invoice", "status", "note"])


@staff_member_required
@reads_from_replica()
def guarantee_fund_view(request):
    """Outstanding receivables per client and per member, overdue amounts, ageing buckets.

    The figures are the last ones computed (see ``invoicing.guarantee_fund``: every five minutes
    by Celery beat, or when a staff member asks with "Refresh now", which POSTs here); the page
    reads them in one query and says when they were computed. The first visit after an install
    computes them once. A read-only report: it reads from the replica when one is configured.
    """
    if request.method == "POST":
        try:
            refresh_guarantee_fund_task.delay()
        except (OSError, KombuOperationalError):
            messages.error(
                request, gettext("The figures could not be queued for computing; try again.")
            )
        else:
            messages.success(
                request,
                gettext("The figures are being computed again; reload this page in a minute."),
            )
        return redirect(request.get_full_path())
    pages = {
        "client_page": request.GET.get("client_page"),
        "member_page": request.GET.get("member_page"),
    }
    figures = guarantee_fund.receivables(**pages)
    computing = False
    if figures is None:
        # Never computed (a fresh install): once, now, unless a refresh is running already.
        if guarantee_fund.refresh():
            figures = guarantee_fund.receivables(**pages, using=DEFAULT_DB_ALIAS)
        computing = figures is None
    today = timezone.localdate()
    review_queue = list(
        selectors.invoices_to_review().defer("snapshot")[: guarantee_fund.PAGE_SIZE + 1]
    )
    context = {
        **admin.site.each_context(request),
        "title": gettext("Guarantee fund: receivables"),
        "today": today,
        "computing": computing,
        "page_size": guarantee_fund.PAGE_SIZE,
        "formal_notices": guarantee_fund.formal_notices(),
        "review_queue": review_queue[: guarantee_fund.PAGE_SIZE],
        "review_queue_more": len(review_queue) > guarantee_fund.PAGE_SIZE,
        "invoice_changelist": reverse("admin:invoicing_invoice_changelist"),
    }
    if figures is not None:
        context.update(
            {
                "as_of": figures.as_of,
                "computed_at": figures.computed_at,
                "open_count": figures.count,
                "total_outstanding": figures.outstanding,
                "total_overdue": figures.overdue,
                "buckets": [(label, figures.buckets[key]) for key, label, *_rest in AGEING_BUCKETS],
                "per_client": figures.per_client,
                "per_member": figures.per_member,
                "paid_this_year": figures.paid_this_year,
                "total_guaranteed": figures.guaranteed,
            }
        )
    return render(request, "admin/invoicing/guarantee_fund.html", context)


class RecurringLineInline(ReadOnlyInline):
    model = RecurringInvoiceLine
    fields = [
        "position",
        "description",
        "quantity",
        "unit",
        "unit_price",
        "vat_category",
        "vat_rate",
    ]
    readonly_fields = fields


class RecurringRunInline(ReadOnlyInline):
    model = RecurringInvoiceRun
    fields = ["period_date", "invoice", "created_at", "member_notified_at"]
    readonly_fields = fields
    ordering = ["-period_date"]


class NextDateFilter(admin.SimpleListFilter):
    title = _("next invoice")
    parameter_name = "next"

    def lookups(self, request, model_admin):
        return [
            ("due", _("Due (today or before)")),
            ("week", _("In the next 7 days")),
            ("problem", _("With a problem")),
        ]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "due":
            return queryset.filter(status=RecurringInvoice.Status.ACTIVE, next_date__lte=today)
        if self.value() == "week":
            return queryset.filter(
                status=RecurringInvoice.Status.ACTIVE,
                next_date__gt=today,
                next_date__lte=today + datetime.timedelta(days=7),
            )
        if self.value() == "problem":
            return queryset.exclude(last_error="")
        return queryset


@admin.register(RecurringInvoice)
class RecurringInvoiceAdmin(
    ObjectActionsMixin, PageLimitMixin, ReadOnlyAdminMixin, LocalisedFieldsMixin, admin.ModelAdmin
):
    """Members' recurring invoices: read, and paused by staff when something is wrong."""

    list_display = ["title", "activity", "client", "frequency", "mode", "status", "next_date"]
    list_filter = ["status", "mode", NextDateFilter]
    list_select_related = ["activity", "client"]
    ordering = ["-pk"]
    raw_id_fields = ["activity", "client", "created_by"]
    fields = [
        "title",
        "activity",
        "client",
        "frequency",
        "interval",
        "day_of_month",
        "start_date",
        "end_date",
        "count",
        "mode",
        "status",
        "next_date",
        "buyer_reference",
        "order_reference",
        "notes",
        "last_error",
        "last_error_at",
        "created_by",
        "created_at",
        "paused_at",
        "ended_at",
        "history",
    ]
    readonly_fields = fields
    inlines = [RecurringLineInline, RecurringRunInline]
    actions = ["pause"]
    object_actions = {
        "pause": ObjectAction(_("Pause"), lambda recurring: recurring.is_active),
    }
    show_full_result_count = False
    paginator = CappedCountPaginator

    @admin.display(description=_("audit trail"))
    def history(self, recurring: RecurringInvoice) -> str:
        return audit_history_link(recurring)

    @admin.action(description=_("Pause the chosen recurring invoices"))
    def pause(self, request, queryset):
        paused = 0
        for recurring in queryset:
            try:
                pause_recurring_invoice(user=request.user, recurring=recurring)
            except CoopError as error:
                self.message_user(request, f"{recurring}: {error.message}", messages.ERROR)
            else:
                paused += 1
        if paused:
            self.message_user(
                request,
                ngettext(
                    "%(count)d recurring invoice paused.",
                    "%(count)d recurring invoices paused.",
                    paused,
                )
                % {"count": paused},
                messages.SUCCESS,
            )
