"""REST API of copyright payments: read-only, the user's own (staff: all).

``register`` adds this app's viewsets to the version 1 router.
"""

from django.http import FileResponse, Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action

from audit.services import record_event
from contracts.api import described_choices
from coop.documents import DocumentStatus
from copyrights import selectors
from copyrights.models import CopyrightPayment, CopyrightStatement, WorkKind
from members.api import IsMemberOrStaff


class CopyrightPaymentSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(read_only=True)
    work_kind = described_choices(serializers.ChoiceField(choices=WorkKind.choices))
    status = described_choices(serializers.ChoiceField(choices=CopyrightPayment.Status.choices))
    statement_ready = serializers.SerializerMethodField()

    class Meta:
        model = CopyrightPayment
        fields = [
            "pk",
            "reference",
            "activity",
            "contract",
            "work_kind",
            "work_title",
            "status",
            "income_year",
            "gross",
            "salary_gross",
            "year_gross_before",
            "first_bracket_costs",
            "second_bracket_costs",
            "lump_sum_costs",
            "taxable",
            "withholding",
            "net",
            "is_unverified",
            "created_at",
            "pay_date",
            "statement_ready",
        ]
        read_only_fields = fields

    def get_statement_ready(self, payment: CopyrightPayment) -> bool:
        try:
            return payment.statement.status == DocumentStatus.READY
        except CopyrightStatement.DoesNotExist:
            return False


class CopyrightPaymentViewSet(viewsets.ReadOnlyModelViewSet):
    """The user's own copyright payments, newest first, with their computed figures.

    Members record them in the browser; staff approve them in the admin and the payroll run
    pays them. Amounts are strings with two decimals.
    """

    serializer_class = CopyrightPaymentSerializer
    permission_classes = [IsMemberOrStaff]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CopyrightPayment.objects.none()
        payments = selectors.copyright_payments_visible_to(self.request.user)
        return (
            payments.select_related(None).select_related("statement").order_by("-created_at", "-pk")
        )

    @extend_schema(responses={(200, "application/pdf"): bytes})
    @action(detail=True, methods=["get"])
    def statement(self, request, pk=None):
        """Download the statement of a paid payment (404 until it is ready)."""
        payment = self.get_object()
        statement = getattr(payment, "statement", None)
        if statement is None or statement.status != DocumentStatus.READY:
            raise Http404(_("This statement is being prepared."))
        record_event(action="downloaded", obj=statement)
        return FileResponse(
            statement.file.open("rb"),
            as_attachment=True,
            filename=f"{statement.reference}.pdf",
            content_type="application/pdf",
        )


def register(router) -> None:
    """Add this app's viewsets to the API router."""
    router.register("copyright-payments", CopyrightPaymentViewSet, basename="copyright-payment")
