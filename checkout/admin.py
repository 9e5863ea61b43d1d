"""Online payments, read only: what the provider said, linked to the invoice and its payment."""

import json

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from audit.admin import CappedCountPaginator, PageLimitMixin
from checkout.models import OnlinePayment
from coop.admin_formats import LocalisedFieldsMixin


@admin.register(OnlinePayment)
class OnlinePaymentAdmin(PageLimitMixin, LocalisedFieldsMixin, admin.ModelAdmin):
    show_full_result_count = False  # a count of the whole table is too slow
    paginator = CappedCountPaginator
    list_display = [
        "created_at",
        "invoice_link",
        "amount",
        "status",
        "provider",
        "provider_payment_id",
        "payment_link",
        "needs_review",
    ]
    list_filter = ["status", "needs_review", "provider"]
    search_fields = ["=provider_payment_id", "=invoice__number"]
    list_select_related = ["invoice", "payment"]
    # Newest first, by onlinepayment_created_idx.
    ordering = ["-created_at", "-pk"]
    sortable_by = []
    fields = [
        "invoice_link",
        "provider",
        "provider_payment_id",
        "reference",
        "amount",
        "currency",
        "status",
        "method",
        "payment_link",
        "needs_review",
        "review_note",
        "created_at",
        "updated_at",
        "paid_at",
        "checkout_url",
        "raw_answer",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("invoice__snapshot", "raw_status")

    def get_readonly_fields(self, request, obj=None):
        return self.localised_fields(self.fields)

    def get_object(self, request, object_id, from_field=None):
        # The change page shows the provider's last answer, which the list leaves out.
        queryset = OnlinePayment.objects.select_related("invoice", "payment")
        try:
            return queryset.defer("invoice__snapshot").get(pk=int(object_id))
        except (ValueError, OnlinePayment.DoesNotExist):
            return None

    @admin.display(description=_("invoice"))
    def invoice_link(self, obj: OnlinePayment):
        url = reverse("admin:invoicing_invoice_change", args=[obj.invoice_id])
        return format_html('<a href="{}">{}</a>', url, obj.invoice.number)

    @admin.display(description=_("provider's last answer"))
    def raw_answer(self, obj: OnlinePayment):
        # Machine output, shown as the provider sent it.
        return format_html(
            "<pre><code>{}</code></pre>", json.dumps(obj.raw_status, indent=2, sort_keys=True)
        )

    @admin.display(description=_("payment"))
    def payment_link(self, obj: OnlinePayment):
        if obj.payment_id is None:
            return "—"
        url = reverse("admin:invoicing_payment_change", args=[obj.payment_id])
        return format_html('<a href="{}">{}</a>', url, obj.payment)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
