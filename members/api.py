"""REST API for the signed-in user, their Activities and ledgers."""

from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, mixins, permissions, serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from coop.keyset import KeysetPagination
from coop.serializers import ModelSerializer
from members import selectors, services
from members.models import Activity, ApiToken, LedgerEntry, Member

MEMBERS_ONLY = _("Only members of the cooperative can use this endpoint.")
ACTIVE_MEMBERS_ONLY = _("Only active members of the cooperative can make changes.")


class IsMemberOrStaff(permissions.BasePermission):
    """Let in cooperative members and staff; anyone else gets a 403.

    Applicants, and members suspended or gone, read what is theirs but change nothing.
    """

    message = MEMBERS_ONLY

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if user.is_staff:
            return True
        if not hasattr(user, "member"):
            self.message = MEMBERS_ONLY
            return False
        if request.method not in permissions.SAFE_METHODS and not selectors.is_active_member(user):
            self.message = ACTIVE_MEMBERS_ONLY
            return False
        return True


class MemberSerializer(ModelSerializer):
    niss = serializers.CharField(source="niss_masked", read_only=True)
    shares_subscribed = serializers.SerializerMethodField()

    class Meta:
        model = Member
        fields = [
            "legal_name",
            "status",
            "street",
            "postal_code",
            "city",
            "country",
            "phone",
            "preferred_language",
            "iban",
            "niss",
            "approved_at",
            "shares_subscribed",
        ]
        read_only_fields = fields

    def get_shares_subscribed(self, member: Member) -> int:
        return sum(item.number_of_shares for item in selectors.shares_of(member))


class MeSerializer(serializers.Serializer):
    email = serializers.EmailField()
    name = serializers.CharField()
    is_staff = serializers.BooleanField()
    member = MemberSerializer(allow_null=True)


class ActivitySerializer(ModelSerializer):
    owner = serializers.CharField(source="owner.legal_name")
    available_balance = serializers.DecimalField(max_digits=14, decimal_places=2)
    planned_balance = serializers.DecimalField(max_digits=14, decimal_places=2)
    guaranteed_balance = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        help_text=_("Clients' confirmed orders not yet invoiced."),
    )
    url = serializers.HyperlinkedIdentityField(view_name="api:activity-detail")
    ledger_url = serializers.HyperlinkedIdentityField(view_name="api:activity-ledger")

    class Meta:
        model = Activity
        fields = [
            "pk",
            "url",
            "name",
            "description",
            "owner",
            "created_at",
            "available_balance",
            "planned_balance",
            "guaranteed_balance",
            "ledger_url",
        ]
        read_only_fields = fields


class LedgerEntrySerializer(ModelSerializer):
    author = serializers.EmailField(source="author.email", allow_null=True, default=None)

    class Meta:
        model = LedgerEntry
        fields = [
            "pk",
            "created_at",
            "kind",
            "stage",
            "amount",
            "reference",
            "description",
            "author",
        ]
        read_only_fields = fields

    def to_representation(self, entry: LedgerEntry) -> dict:
        # A ledger page has 50 rows: DRF's generic path (every field built from the model on
        # each request, then a source lookup, a field call and a time-zone lookup per field and
        # row) costs more than the query. Same output, field by field (tests/members/test_api.py
        # compares it with the generic path).
        created_at, amount = self._formatting_fields
        author = entry.author
        return {
            "pk": entry.pk,
            "created_at": created_at.to_representation(entry.created_at),
            "kind": str(entry.kind),
            "stage": str(entry.stage),
            "amount": amount.to_representation(entry.amount),
            "reference": str(entry.reference),
            "description": str(entry.description),
            "author": None if author is None else str(author.email),
        }

    @cached_property
    def _formatting_fields(self) -> tuple[serializers.DateTimeField, serializers.DecimalField]:
        """The time and amount fields as ModelSerializer builds them, in the request's zone."""
        amount = LedgerEntry._meta.get_field("amount")
        return (
            serializers.DateTimeField(default_timezone=timezone.get_current_timezone()),
            serializers.DecimalField(
                max_digits=amount.max_digits, decimal_places=amount.decimal_places
            ),
        )


class MeView(APIView):
    """The signed-in user and, for members, their profile (national number masked)."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=MeSerializer)
    def get(self, request):
        user = request.user
        data = {
            "email": user.email,
            "name": user.get_full_name(),
            "is_staff": user.is_staff,
            "member": selectors.member_of(user),
        }
        return Response(MeSerializer(data, context={"request": request}).data)


class ActivityList(generics.ListAPIView):
    """The Activities the user owns or shares, with available and planned balances."""

    serializer_class = ActivitySerializer
    permission_classes = [IsMemberOrStaff]

    def get_queryset(self):
        return selectors.activities_visible_to(self.request.user)


class ActivityDetail(generics.RetrieveAPIView):
    """One Activity with its balances; another member's Activity is a 404."""

    serializer_class = ActivitySerializer
    permission_classes = [IsMemberOrStaff]

    def get_queryset(self):
        return selectors.activities_visible_to(self.request.user)


class ActivityLedger(generics.ListAPIView):
    """An Activity's ledger entries, newest first, paginated."""

    serializer_class = LedgerEntrySerializer
    permission_classes = [IsMemberOrStaff]
    pagination_class = KeysetPagination
    keyset = selectors.LEDGER_KEYSET

    def get_queryset(self):
        # Only whether the user sees the Activity: neither its balances nor its owner.
        activity_pk = get_object_or_404(
            selectors.activities_visible_to(self.request.user).values_list("pk", flat=True),
            pk=self.kwargs["pk"],
        )
        return selectors.ledger_entries_of(Activity(pk=activity_pk))


class ApiTokenSerializer(ModelSerializer):
    class Meta:
        model = ApiToken
        fields = [
            "pk",
            "name",
            "prefix",
            "created_at",
            "expires_at",
            "last_used_at",
            "second_factor_verified",
        ]
        read_only_fields = fields


class ApiTokenViewSet(mixins.ListModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """The signed-in user's API tokens (never their keys); DELETE revokes one at once.

    Tokens are created on the profile page, where staff and space managers confirm with their
    authenticator code.
    """

    serializer_class = ApiTokenSerializer
    permission_classes = [permissions.IsAuthenticated]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ApiToken.objects.none()
        return selectors.api_tokens_of(self.request.user)

    @extend_schema(responses={status.HTTP_204_NO_CONTENT: None})
    def destroy(self, request, *args, **kwargs):
        services.revoke_api_token(user=request.user, token=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
