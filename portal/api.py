"""The portal's data through the API, read-only: a client's documents.

Authenticated by the portal session of the browser, or by the link of an invoice e-mail in the
header ``Authorization: Portal <token>``; a member's token or session gets 401 here, and a
portal client gets nothing anywhere else in the API.
"""

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, generics, permissions, serializers

from portal import selectors, services, sessions

KEYWORD = "Portal"
SUM = {"max_digits": None, "decimal_places": 2}


class PortalAuthentication(authentication.BaseAuthentication):
    """The portal session, else an invoice e-mail's link token (``Authorization: Portal …``)."""

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if header and header[0].lower() == KEYWORD.lower().encode():
            if len(header) != 2:
                raise exceptions.AuthenticationFailed(_("Invalid portal token header."))
            try:
                token = header[1].decode()
            except UnicodeError:
                raise exceptions.AuthenticationFailed(_("Invalid portal token.")) from None
            identity = services.token_identity(token, now=timezone.now())
            if identity is None:
                raise exceptions.AuthenticationFailed(_("Invalid portal token."))
            return (identity, None)
        identity = sessions.current_identity(request._request)
        if identity is None:
            return None
        return (identity, None)

    def authenticate_header(self, request) -> str:
        return KEYWORD


class PortalScheme(OpenApiAuthenticationExtension):
    target_class = PortalAuthentication
    name = "portalAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "`Portal <token>`, the token of the link in an invoice e-mail, or the browser's"
                " portal session (signed in at /portal/)."
            ),
        }


class IsPortalClient(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        return isinstance(request.user, selectors.PortalIdentity)


class PortalDocumentSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    kind = serializers.CharField()
    number = serializers.CharField()
    issue_date = serializers.DateField()
    due_date = serializers.DateField(allow_null=True)
    member_name = serializers.CharField(help_text=_("The member who did the work."))
    total_incl_vat = serializers.DecimalField(max_digits=12, decimal_places=2)
    amount_paid = serializers.DecimalField(**SUM)
    amount_due = serializers.DecimalField(**SUM)
    payment_status = serializers.SerializerMethodField(
        help_text=_("open, partially_paid, overdue, paid, credited or credit_note")
    )

    def get_payment_status(self, row) -> str:
        return selectors.payment_status(
            row["status"],
            row["kind"],
            row["due_date"],
            row["amount_due"],
            today=timezone.localdate(),
        )


class PortalView:
    authentication_classes = [PortalAuthentication]
    permission_classes = [IsPortalClient]
    serializer_class = PortalDocumentSerializer

    def get_queryset(self):
        return selectors.document_rows(self.request.user)


class PortalDocumentList(PortalView, generics.ListAPIView):
    """The portal client's issued invoices and credit notes, from every member, newest first."""


class PortalDocumentDetail(PortalView, generics.RetrieveAPIView):
    """One of the portal client's documents; another address's is not found."""

    def get_object(self):
        row = self.get_queryset().filter(pk=self.kwargs["pk"]).first()
        if row is None:
            raise Http404
        return row
