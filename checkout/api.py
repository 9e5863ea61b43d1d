"""The online payments of an invoice, read by its member and by staff (the webhook is public)."""

from django.http import Http404
from rest_framework import generics, serializers

from checkout import selectors
from checkout.models import OnlinePayment
from members.api import IsMemberOrStaff


class OnlinePaymentSerializer(serializers.ModelSerializer):
    payment = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = OnlinePayment
        fields = [
            "pk",
            "provider",
            "provider_payment_id",
            "amount",
            "currency",
            "status",
            "method",
            "payment",
            "needs_review",
            "created_at",
            "paid_at",
        ]
        read_only_fields = fields


class InvoiceOnlinePayments(generics.ListAPIView):
    """An invoice's online payments, newest first (a handful: one per attempt of the client)."""

    serializer_class = OnlinePaymentSerializer
    permission_classes = [IsMemberOrStaff]
    pagination_class = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return OnlinePayment.objects.none()
        payments = selectors.online_payments_of(self.request.user, self.kwargs["pk"])
        if payments is None:
            raise Http404("No Invoice matches the given query.")
        return payments
