"""Where staff confirm orders: accepted quotes, oldest acceptance first, with the client's
credit standing from the guarantee fund's data (its exposure, what is overdue, how it paid).
Each quote's page shows what staff confirm: its lines, VAT, deposit and schedule, its PDF, the
VAT checks an invoice would meet, and for a new version of an order what changes."""

import datetime
from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from audit.admin import CappedCountPaginator, ObjectAction, ObjectActionsMixin, PageLimitMixin
from coop.admin_formats import LocalisedFieldsMixin
from coop.errors import CoopError
from coop.templatetags.money import euro
from invoicing.calculation import compute_totals
from invoicing.guarantee_fund import credit_standing
from invoicing.vat import rate_name
from quotes import orders
from quotes.errors import QuotingError
from quotes.models import OrderInvoice, Quote, QuoteAwaitingConfirmation
from quotes.pdf import schedule_rows
from quotes.schedule import percent_text


class ReasonActionForm(admin.helpers.ActionForm):
    reason = forms.CharField(label=_("Reason"), required=False)


def awaiting_confirmation(quote: Quote) -> bool:
    return quote.status == Quote.Status.ACCEPTED


@admin.register(QuoteAwaitingConfirmation)
class OrderAwaitingConfirmationAdmin(
    ObjectActionsMixin, PageLimitMixin, LocalisedFieldsMixin, admin.ModelAdmin
):
    """Accepted quotes waiting for staff, the oldest acceptance first (quote_status_accepted_idx),
    each with its client's credit standing, computed for the page shown."""

    show_full_result_count = False
    paginator = CappedCountPaginator
    action_form = ReasonActionForm
    actions = ["confirm", "refuse"]
    object_actions = {
        "confirm": ObjectAction(_("Confirm the order"), awaiting_confirmation),
        "refuse": ObjectAction(_("Refuse the order"), awaiting_confirmation),
    }
    list_display = [
        "number_display",
        "title",
        "activity",
        "owner",
        "client",
        "total_excl_vat",
        "accepted_at",
        "client_po_number",
        "exposure",
        "overdue",
        "payment_behaviour",
    ]
    list_select_related = ["activity__owner", "client", "current_version"]
    ordering = ["accepted_at", "pk"]
    sortable_by = []
    fields = [
        "number_display",
        "activity",
        "client",
        "title",
        "order_change",
        "lines",
        "vat_breakdown",
        "payment_plan",
        "pdf",
        "vat_check",
        "accepted_at",
        "accepted_by",
        "client_po_number",
        "credit",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(status=Quote.Status.ACCEPTED)
            .select_related("activity__owner", "client", "current_version", "ordered_version")
            .defer(
                "current_version__snapshot",
                "current_version__signature",
                "ordered_version__snapshot",
                "ordered_version__signature",
            )
        )

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        rows = list(changelist.result_list)
        standings = credit_standing(
            client_ids=sorted({row.client_id for row in rows}), today=timezone.localdate()
        )
        for row in rows:
            row.credit_standing = standings.get(row.client_id)
        return changelist

    def _standing(self, quote: Quote):
        standing = getattr(quote, "credit_standing", None)
        if standing is None:
            standing = credit_standing(client_ids=[quote.client_id], today=timezone.localdate())[
                quote.client_id
            ]
            quote.credit_standing = standing
        return standing

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.is_staff and super().has_change_permission(request, obj)

    @admin.display(description=_("number"), ordering="sequence_number")
    def number_display(self, quote: Quote) -> str:
        return quote.number

    @admin.display(description=_("title"))
    def title(self, quote: Quote) -> str:
        return quote.current_version.title

    @admin.display(description=_("owner"))
    def owner(self, quote: Quote) -> str:
        return str(quote.activity.owner)

    @admin.display(description=_("total excl. VAT"))
    def total_excl_vat(self, quote: Quote) -> str:
        return euro(quote.current_version.total_excl_vat)

    def _lines(self, quote: Quote) -> list:
        cached = getattr(quote, "_admin_lines", None)
        if cached is None:
            cached = quote._admin_lines = list(quote.current_version.lines.order_by("position"))
        return cached

    @admin.display(description=_("lines"))
    def lines(self, quote: Quote) -> str:
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td class='number'>{}</td><td class='number'>{}</td>"
            "<td>{} {} %</td><td class='number'>{}</td></tr>",
            (
                (
                    line.description,
                    number_format(line.quantity.normalize()),
                    euro(line.unit_price),
                    line.vat_category,
                    percent_text(line.vat_rate),
                    euro(line.line_total),
                )
                for line in self._lines(quote)
            ),
        )
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>"
            "</thead><tbody>{}</tbody></table>",
            gettext("Description"),
            gettext("Quantity"),
            gettext("Unit price"),
            gettext("VAT"),
            gettext("Amount excl. VAT"),
            rows,
        )

    @admin.display(description=_("VAT"))
    def vat_breakdown(self, quote: Quote) -> str:
        version = quote.current_version
        totals = compute_totals([line.as_line() for line in self._lines(quote)], [])
        groups = format_html_join(
            "",
            "<li>{} {} % ({}): {} → {}</li>",
            (
                (
                    group.category,
                    percent_text(group.rate),
                    rate_name(group.category, group.rate),
                    euro(group.taxable_amount),
                    euro(group.vat_amount),
                )
                for group in totals.vat_breakdown
            ),
        )
        return format_html(
            "<ul>{}</ul><p>{}</p>",
            groups,
            gettext("%(excl)s excl. VAT + %(vat)s VAT = %(incl)s")
            % {
                "excl": euro(version.total_excl_vat),
                "vat": euro(version.total_vat),
                "incl": euro(version.total_incl_vat),
            },
        )

    @admin.display(description=_("deposit and schedule"))
    def payment_plan(self, quote: Quote) -> str:
        version = quote.current_version
        parts = []
        if version.deposit_percent:
            percent = percent_text(version.deposit_percent)
            parts.append(gettext("Deposit: %(percent)s %%") % {"percent": percent})
        for row in schedule_rows(version.schedule or []):
            when = row["when"]
            if isinstance(when, datetime.date):
                when = date_format(when, "SHORT_DATE_FORMAT")
            parts.append(
                gettext("%(label)s: %(percent)s %%, %(when)s")
                % {
                    "label": row["label"],
                    "percent": percent_text(row["percent"]),
                    "when": when,
                }
            )
        parts.append(gettext("Payment terms: %(days)d days") % {"days": version.payment_terms_days})
        return format_html_join("", "<p>{}</p>", ((part,) for part in parts))

    @admin.display(description=_("PDF"))
    def pdf(self, quote: Quote) -> str:
        version = quote.current_version
        url = reverse("quotes:quote_pdf", args=[quote.pk, version.version])
        return format_html(
            '<a href="{}">{}</a> <span class="help">SHA-256 {}</span>',
            url,
            gettext("The PDF the client accepted (version %(version)d)")
            % {"version": version.version},
            version.pdf_sha256 or "—",
        )

    @admin.display(description=_("VAT check"))
    def vat_check(self, quote: Quote) -> str:
        try:
            orders.check_vat_treatment(quote, quote.current_version)
        except QuotingError as error:
            return format_html('<strong style="color:#b42318">{}</strong>', error.message)
        return gettext("The VAT treatment passes the checks an invoice meets.")

    @admin.display(description=_("order"))
    def order_change(self, quote: Quote) -> str:
        ordered = quote.ordered_version
        version = quote.current_version
        if ordered is None:
            return gettext("A new order of %(total)s excl. VAT.") % {
                "total": euro(version.total_excl_vat)
            }
        return gettext(
            "Version %(version)d of order %(number)s: from %(before)s to %(after)s excl. VAT "
            "(change: %(change)s)."
        ) % {
            "version": version.version,
            "number": quote.number,
            "before": euro(ordered.total_excl_vat),
            "after": euro(version.total_excl_vat),
            "change": euro(version.total_excl_vat - ordered.total_excl_vat),
        }

    @admin.display(description=_("accepted by"))
    def accepted_by(self, quote: Quote) -> str:
        version = quote.current_version
        return ", ".join(
            part for part in (version.accepted_by_name, version.accepted_by_function) if part
        )

    @admin.display(description=_("client's purchase order"))
    def client_po_number(self, quote: Quote) -> str:
        return quote.current_version.client_po_number or "—"

    @admin.display(description=_("client's exposure"))
    def exposure(self, quote: Quote) -> str:
        standing = self._standing(quote)
        return f"{euro(standing.exposure)} ({standing.open_count})"

    @admin.display(description=_("overdue"))
    def overdue(self, quote: Quote) -> str:
        standing = self._standing(quote)
        if standing.overdue > 0:
            return format_html('<span style="color:#b42318">{}</span>', euro(standing.overdue))
        return euro(standing.overdue)

    @admin.display(description=_("paid late over the last year"))
    def payment_behaviour(self, quote: Quote) -> str:
        return self._standing(quote).behaviour

    @admin.display(description=_("credit standing"))
    def credit(self, quote: Quote) -> str:
        standing = self._standing(quote)
        # Whole sentences: "of" and its object do not combine alike in every language.
        if standing.is_buyer:
            text = gettext(
                "Open invoices of every member's clients with this VAT number: %(count)d, "
                "%(exposure)s due, of which %(overdue)s overdue. Paid late over the last "
                "year: %(behaviour)s."
            )
        else:
            text = gettext(
                "Open invoices of this client: %(count)d, %(exposure)s due, of which "
                "%(overdue)s overdue. Paid late over the last year: %(behaviour)s."
            )
        return text % {
            "count": standing.open_count,
            "exposure": euro(standing.exposure),
            "overdue": euro(standing.overdue),
            "behaviour": standing.behaviour,
        }

    def _each(self, request, queryset, action, done_message: Callable[[int], str]) -> None:
        done = 0
        for item in queryset:
            try:
                action(item)
            except CoopError as error:
                self.message_user(request, f"{item}: {error.message}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(request, done_message(done) % {"count": done}, messages.SUCCESS)

    @admin.action(description=_("Confirm the order"), permissions=["change"])
    def confirm(self, request, queryset):
        self._each(
            request,
            queryset.order_by("accepted_at", "pk"),
            lambda quote: orders.confirm_order(staff_user=request.user, quote=quote),
            lambda count: ngettext(
                "%(count)d order confirmed.", "%(count)d orders confirmed.", count
            ),
        )

    @admin.action(description=_("Refuse the order (give a reason)"), permissions=["change"])
    def refuse(self, request, queryset):
        self._each(
            request,
            queryset.order_by("accepted_at", "pk"),
            lambda quote: orders.refuse_order(
                staff_user=request.user, quote=quote, reason=request.POST.get("reason", "")
            ),
            lambda count: ngettext("%(count)d order refused.", "%(count)d orders refused.", count),
        )


@admin.register(OrderInvoice)
class OrderInvoiceAdmin(LocalisedFieldsMixin, admin.ModelAdmin):
    """The invoices drawn up from orders: read-only (they are made from the order's page)."""

    show_full_result_count = False
    paginator = CappedCountPaginator
    list_display = ["quote", "invoice", "part", "amount_excl_vat", "guarantee_released"]
    list_select_related = ["quote", "invoice"]
    raw_id_fields = ["quote", "invoice", "created_by"]
    ordering = ["-pk"]
    sortable_by = []
    readonly_fields = [
        "quote",
        "invoice",
        "part",
        "label",
        "amount_excl_vat",
        "guarantee_released",
        "created_at",
        "created_by",
    ]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
