"""REST API of contracts, payslips and the salary simulator, scoped to the requesting user.

``register`` adds this app's viewsets to the version 1 router.
"""

from decimal import Decimal

from django.http import FileResponse, Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response

from audit.services import record_event
from contracts import selectors
from contracts.models import (
    Contract,
    ContractEvent,
    ContractWorker,
    ExpenseClaim,
    ExpenseReceipt,
    Payslip,
    TaxProfile,
    WorkDay,
)
from contracts.parameters import load_parameters
from contracts.payroll import TaxSituation, simulate
from contracts.services import contracts as services
from contracts.services import expenses
from contracts.services.contracts import DayInput, WorkerInput
from coop import bounds
from coop.documents import DocumentStatus
from coop.idempotency import IdempotentCreationMixin
from members.api import IsMemberOrStaff
from members.models import Member
from members.selectors import activities_visible_to

MONEY = {"max_digits": 12, "decimal_places": 2}


def described_choices(field: serializers.ChoiceField) -> serializers.ChoiceField:
    """Document the choices in the field's description instead of as one more enum.

    The schema's enum components are named by field: the contract's kinds and statuses
    appear under several names ("kind" in requests, "from_status"…), and another enum for
    them would collide with the other apps' "kind" and "status".
    """
    schema = {"type": "string", "description": " | ".join(str(key) for key in field.choices)}
    field_class = extend_schema_field(schema)(type("DescribedChoiceField", (type(field),), {}))
    return field_class(*field._args, **field._kwargs)


class DaySerializer(serializers.Serializer):
    date = serializers.DateField(validators=[bounds.date_validator(bounds.check_work_day)])
    portion = serializers.ChoiceField(choices=WorkDay.Portion.choices, default="1.0")


class WorkerInSerializer(serializers.Serializer):
    member = serializers.IntegerField()
    daily_wage = serializers.DecimalField(**MONEY)
    days = DaySerializer(many=True)


class ContractInSerializer(serializers.Serializer):
    activity = serializers.IntegerField()
    client = serializers.IntegerField(required=False, allow_null=True)
    title = serializers.CharField(max_length=bounds.TITLE_MAX_LENGTH)
    description = serializers.CharField(
        max_length=bounds.DESCRIPTION_MAX_LENGTH, required=False, allow_blank=True
    )
    place = serializers.CharField(max_length=bounds.TITLE_MAX_LENGTH)
    kind = described_choices(serializers.ChoiceField(choices=Contract.Kind.choices))
    amount_to_invoice = serializers.DecimalField(**MONEY)
    workers = WorkerInSerializer(many=True)


class WorkerOutSerializer(serializers.ModelSerializer):
    member_name = serializers.CharField(source="member.legal_name", read_only=True)
    days = DaySerializer(many=True, read_only=True, source="days_in_order")

    class Meta:
        model = ContractWorker
        fields = ["member", "member_name", "daily_wage", "planned_employer_cost", "days"]


class EventSerializer(serializers.ModelSerializer):
    from_status = described_choices(
        serializers.ChoiceField(choices=Contract.Status.choices, read_only=True)
    )
    to_status = described_choices(
        serializers.ChoiceField(choices=Contract.Status.choices, read_only=True)
    )

    class Meta:
        model = ContractEvent
        fields = ["from_status", "to_status", "reason", "created_at"]


class VisibleWorkersSerializer(serializers.ListSerializer):
    """Every worker for the Activity's members and staff; a hired worker sees only theirs.

    One worker serializer serves every contract of a list: its fields are built once.
    """

    def get_attribute(self, contract: Contract) -> list:
        return selectors.workers_shown_to(self.context["request"].user, contract)


class ContractSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(read_only=True)
    workers = VisibleWorkersSerializer(child=WorkerOutSerializer(), read_only=True)
    history = EventSerializer(source="events", many=True, read_only=True)

    class Meta:
        model = Contract
        fields = [
            "pk",
            "reference",
            "status",
            "activity",
            "client",
            "title",
            "description",
            "place",
            "kind",
            "amount_to_invoice",
            "first_work_day",
            "last_work_day",
            "invoice",
            "workers",
            "history",
        ]
        read_only_fields = fields


# What ``get_object_or_404`` says of a contract the user does not see.
CONTRACT_NOT_FOUND = f"No {Contract._meta.object_name} matches the given query."


class ContractWriter:
    """Write contracts exactly as ``ContractSerializer`` does, from rows read as dicts.

    A page of contracts through DRF's generic path built every contract, worker and day as a
    model instance, then each field of each through a source lookup and a field call: more work
    than the three queries. Same output, field by field (tests/contracts/test_screen_costs.py
    compares it with the serializer's).
    """

    def __init__(self, user) -> None:
        self.user = user
        # The time and amount fields as ModelSerializer builds them, in the request's zone.
        self.moment = serializers.DateTimeField(default_timezone=timezone.get_current_timezone())
        self.money = serializers.DecimalField(**MONEY)

    def write(self, contracts: list[dict]) -> list[dict]:
        """Each row of ``selectors.contract_rows`` with its workers and history."""
        workers = selectors.worker_rows_shown_to(self.user, contracts)
        events = selectors.event_rows_of([contract["pk"] for contract in contracts])
        return [
            self._contract(contract, workers[contract["pk"]], events[contract["pk"]])
            for contract in contracts
        ]

    def _contract(self, contract: dict, workers: list[dict], events: list[dict]) -> dict:
        money = self.money.to_representation
        first_work_day, last_work_day = contract["first_work_day"], contract["last_work_day"]
        return {
            "pk": contract["pk"],
            "reference": f"C{contract['pk']:06d}",
            "status": str(contract["status"]),
            "activity": contract["activity_id"],
            "client": contract["client_id"],
            "title": str(contract["title"]),
            "description": str(contract["description"]),
            "place": str(contract["place"]),
            "kind": str(contract["kind"]),
            "amount_to_invoice": money(contract["amount_to_invoice"]),
            "first_work_day": first_work_day.isoformat() if first_work_day else None,
            "last_work_day": last_work_day.isoformat() if last_work_day else None,
            "invoice": contract["invoice_id"],
            "workers": [
                {
                    "member": worker["member_id"],
                    "member_name": str(worker["member__legal_name"]),
                    "daily_wage": money(worker["daily_wage"]),
                    "planned_employer_cost": money(worker["planned_employer_cost"]),
                    "days": [
                        {"date": date.isoformat(), "portion": str(portion)}
                        for date, portion in zip(
                            worker["day_dates"], worker["day_portions"], strict=True
                        )
                    ],
                }
                for worker in workers
            ],
            "history": [
                {
                    "from_status": str(event["from_status"]),
                    "to_status": str(event["to_status"]),
                    "reason": str(event["reason"]),
                    "created_at": self.moment.to_representation(event["created_at"]),
                }
                for event in events
            ],
        }


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class ContractViewSet(
    IdempotentCreationMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The user's contracts: record, change, submit, cancel, invoice."""

    serializer_class = ContractSerializer
    permission_classes = [IsMemberOrStaff]
    http_method_names = ["get", "post", "put", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Contract.objects.none()
        user = self.request.user
        return selectors.with_worker_visibility(
            selectors.contract_with_workers_and_history(selectors.contracts_visible_to(user)), user
        ).order_by("-first_work_day", "-pk")

    def _rows(self):
        """The user's contracts as dicts (``selectors.contract_rows``), for list and detail."""
        contracts = selectors.contracts_visible_to(self.request.user).order_by(
            "-first_work_day", "-pk"
        )
        return selectors.contract_rows(contracts, self.request.user)

    def list(self, request, *args, **kwargs):
        rows = self.filter_queryset(self._rows())
        page = self.paginate_queryset(rows)
        if page is None:
            return Response(ContractWriter(request.user).write(list(rows)))
        return self.get_paginated_response(ContractWriter(request.user).write(page))

    def retrieve(self, request, *args, **kwargs):
        try:
            pk = int(self.kwargs[self.lookup_url_kwarg or self.lookup_field])
        except ValueError:
            pk = None
        row = None if pk is None else selectors.contract_row_of(request.user, pk)
        if row is None:
            raise Http404(CONTRACT_NOT_FOUND)
        self.check_object_permissions(request, row)
        return Response(ContractWriter(request.user).write([row])[0])

    def _arguments(self, request) -> dict:
        from invoicing.selectors import clients_visible_to

        serializer = ContractInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        activity = activities_visible_to(request.user).filter(pk=data["activity"]).first()
        if activity is None:
            raise serializers.ValidationError({"activity": [_("Unknown Activity.")]})
        client = None
        if data.get("client") is not None:
            client = clients_visible_to(request.user).filter(pk=data["client"]).first()
            if client is None:
                raise serializers.ValidationError({"client": [_("Unknown client.")]})
        members = Member.objects.in_bulk([worker["member"] for worker in data["workers"]])
        workers = []
        for worker in data["workers"]:
            if worker["member"] not in members:
                raise serializers.ValidationError({"workers": [_("Unknown member.")]})
            workers.append(
                WorkerInput(
                    member=members[worker["member"]],
                    daily_wage=worker["daily_wage"],
                    days=[
                        DayInput(date=day["date"], portion=day["portion"]) for day in worker["days"]
                    ],
                )
            )
        return {
            "user": request.user,
            "activity": activity,
            "client": client,
            "title": data["title"],
            "description": data.get("description", ""),
            "place": data["place"],
            "kind": data["kind"],
            "amount_to_invoice": data["amount_to_invoice"],
            "workers": workers,
            "today": timezone.localdate(),
        }

    def _answer(self, contract: Contract, *, code=status.HTTP_200_OK) -> Response:
        contract = self.get_queryset().get(pk=contract.pk)
        return Response(self.get_serializer(contract).data, status=code)

    @extend_schema(request=ContractInSerializer, responses={201: ContractSerializer})
    def create(self, request, *args, **kwargs):
        contract = services.save_contract(**self._arguments(request))
        return self._answer(contract, code=status.HTTP_201_CREATED)

    @extend_schema(request=ContractInSerializer, responses={200: ContractSerializer})
    def update(self, request, *args, **kwargs):
        contract = self.get_object()
        contract = services.save_contract(contract=contract, **self._arguments(request))
        return self._answer(contract)

    @extend_schema(request=None, responses={200: ContractSerializer})
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """Send the contract to staff for approval."""
        contract = services.submit_contract(
            user=request.user, contract=self.get_object(), today=timezone.localdate()
        )
        return self._answer(contract)

    @extend_schema(request=ReasonSerializer, responses={200: ContractSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel the contract before its work starts."""
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        contract = services.cancel_contract(
            user=request.user,
            contract=self.get_object(),
            reason=serializer.validated_data["reason"],
            today=timezone.localdate(),
        )
        return self._answer(contract)

    @extend_schema(request=None, responses={201: ContractSerializer})
    @action(detail=True, methods=["post"])
    def invoice(self, request, pk=None):
        """Draft the contract's invoice (see the invoices endpoint to submit it)."""
        contract = self.get_object()
        services.create_invoice_from_contract(
            user=request.user, contract=contract, today=timezone.localdate()
        )
        return self._answer(contract, code=status.HTTP_201_CREATED)


class PayslipSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(read_only=True)
    contract = serializers.IntegerField(source="worker.contract_id", read_only=True)
    pdf_ready = serializers.SerializerMethodField()

    class Meta:
        model = Payslip
        fields = [
            "pk",
            "reference",
            "kind",
            "contract",
            "activity",
            "pay_date",
            "days",
            "gross",
            "personal_onss",
            "work_bonus",
            "taxable",
            "withholding_tax",
            "special_contribution",
            "expenses",
            "net",
            "employer_cost",
            "pdf_ready",
        ]
        read_only_fields = fields

    def get_pdf_ready(self, payslip: Payslip) -> bool:
        return payslip.status == DocumentStatus.READY


class PayslipViewSet(viewsets.ReadOnlyModelViewSet):
    """The user's own payslips."""

    serializer_class = PayslipSerializer
    permission_classes = [IsMemberOrStaff]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Payslip.objects.none()
        # Of the related rows, a payslip shows only its worker's contract id.
        payslips = selectors.payslips_visible_to(self.request.user).select_related(None)
        return payslips.select_related("worker").order_by("-pay_date", "-pk")

    @extend_schema(responses={(200, "application/pdf"): bytes})
    @action(detail=True, methods=["get"])
    def pdf(self, request, pk=None):
        """Download the payslip's PDF (404 while it is being prepared)."""
        payslip = self.get_object()
        if payslip.status != DocumentStatus.READY:
            raise Http404(_("This payslip is being prepared."))
        record_event(action="downloaded", obj=payslip)
        return FileResponse(
            payslip.file.open("rb"),
            as_attachment=True,
            filename=f"{payslip.reference}.pdf",
            content_type="application/pdf",
        )


class SimulationInSerializer(serializers.Serializer):
    invoice_excl_vat = serializers.DecimalField(**MONEY, min_value=0)
    expenses = serializers.DecimalField(**MONEY, min_value=0, default=Decimal("0.00"))
    kind = described_choices(
        serializers.ChoiceField(choices=Contract.Kind.choices, default="artistic")
    )
    household = serializers.ChoiceField(choices=TaxProfile.Household.choices, default="single")
    children = serializers.IntegerField(min_value=0, max_value=20, default=0)


class SimulationSerializer(serializers.Serializer):
    invoice_excl_vat = serializers.DecimalField(**MONEY)
    fee = serializers.DecimalField(**MONEY)
    expenses = serializers.DecimalField(**MONEY)
    budget = serializers.DecimalField(**MONEY)
    employer_cost = serializers.DecimalField(**MONEY, source="payslip.employer_cost")
    gross = serializers.DecimalField(**MONEY, source="payslip.gross")
    personal_onss = serializers.DecimalField(**MONEY, source="payslip.personal_onss")
    work_bonus = serializers.DecimalField(**MONEY, source="payslip.work_bonus")
    withholding_tax = serializers.DecimalField(**MONEY, source="payslip.withholding_tax")
    special_contribution = serializers.DecimalField(**MONEY, source="payslip.special_contribution")
    net = serializers.DecimalField(**MONEY, source="payslip.net")


class SalarySimulationViewSet(IdempotentCreationMixin, viewsets.GenericViewSet):
    """From an invoice amount to the net salary, with the payroll engine."""

    permission_classes = [IsMemberOrStaff]
    serializer_class = SimulationSerializer

    @extend_schema(request=SimulationInSerializer, responses={200: SimulationSerializer})
    def create(self, request):
        given = SimulationInSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        result = simulate(
            invoice_excl_vat=data["invoice_excl_vat"],
            expenses=data["expenses"],
            is_artistic=data["kind"] == Contract.Kind.ARTISTIC,
            parameters=load_parameters(timezone.localdate()),
            situation=TaxSituation(household=data["household"], children=data["children"]),
        )
        return Response(SimulationSerializer(result).data)


class ReceiptInSerializer(serializers.Serializer):
    file = serializers.FileField(help_text=_("PDF, PNG or JPEG, at most 10 MB."))
    description = serializers.CharField(max_length=255)
    category = serializers.ChoiceField(
        choices=ExpenseReceipt.Category.choices, default=ExpenseReceipt.Category.OTHER
    )
    spent_on = serializers.DateField(
        validators=[bounds.date_validator(bounds.check_receipt_date)],
        help_text=_("Not in the future, at most two years ago."),
    )
    amount = serializers.DecimalField(**MONEY, help_text=_("Amount incl. VAT."))
    vat = serializers.DecimalField(**MONEY, default=Decimal("0.00"))


RECEIPTS_HELP = _(
    "Multipart fields receipts[0]file, receipts[0]description, receipts[0]category, "
    "receipts[0]spent_on, receipts[0]amount, receipts[0]vat, then receipts[1]… for the next "
    "receipt."
)


class ExpenseClaimInSerializer(serializers.Serializer):
    activity = serializers.IntegerField()
    description = serializers.CharField(max_length=255)
    draft = serializers.BooleanField(
        default=False,
        help_text=_("Keep the claim as a draft, to add receipts later and send it then."),
    )
    receipts = ReceiptInSerializer(many=True, required=False, help_text=RECEIPTS_HELP)


class ReceiptsInSerializer(serializers.Serializer):
    receipts = ReceiptInSerializer(many=True, allow_empty=False, help_text=RECEIPTS_HELP)


class ReceiptSerializer(serializers.ModelSerializer):
    class Meta:
        model = ExpenseReceipt
        fields = [
            "pk",
            "description",
            "category",
            "spent_on",
            "amount",
            "vat",
            "content_type",
            "size",
        ]
        read_only_fields = fields


class ExpenseClaimSerializer(serializers.ModelSerializer):
    status = described_choices(
        serializers.ChoiceField(choices=ExpenseClaim.Status.choices, read_only=True)
    )
    payslip = serializers.CharField(source="payslip.reference", read_only=True, allow_null=True)
    receipts = ReceiptSerializer(many=True, read_only=True)

    class Meta:
        model = ExpenseClaim
        fields = [
            "pk",
            "activity",
            "description",
            "status",
            "total",
            "total_vat",
            "created_at",
            "submitted_at",
            "decided_at",
            "reason",
            "payslip",
            "receipts",
        ]
        read_only_fields = fields


class ExpenseClaimViewSet(
    IdempotentCreationMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The user's expense claims (staff: all): claim receipts, or gather them in a draft and
    send it; staff decide."""

    serializer_class = ExpenseClaimSerializer
    permission_classes = [IsMemberOrStaff]

    def get_parsers(self):
        if getattr(self, "action", None) in ("create", "receipts"):
            return [MultiPartParser(), FormParser()]
        return super().get_parsers()

    def get_permissions(self):
        if getattr(self, "action", None) in ("approve", "reject"):
            return [IsAdminUser()]
        return super().get_permissions()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ExpenseClaim.objects.none()
        return (
            selectors.expense_claims_visible_to(self.request.user)
            .prefetch_related("receipts")
            .order_by("-created_at", "-pk")
        )

    def _answer(self, claim: ExpenseClaim, *, code=status.HTTP_200_OK) -> Response:
        claim = self.get_queryset().get(pk=claim.pk)
        return Response(self.get_serializer(claim).data, status=code)

    @extend_schema(
        request={"multipart/form-data": ExpenseClaimInSerializer},
        responses={201: ExpenseClaimSerializer},
    )
    def create(self, request, *args, **kwargs):
        """Claim receipts from one of the user's Activities: sent to staff for approval."""
        serializer = ExpenseClaimInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        activity = activities_visible_to(request.user).filter(pk=data["activity"]).first()
        if activity is None:
            raise serializers.ValidationError({"activity": [_("Unknown Activity.")]})
        receipts = _receipt_inputs(data.get("receipts", []))
        if data["draft"]:
            claim = expenses.start_expense_claim(
                user=request.user,
                activity=activity,
                description=data["description"],
                receipts=receipts,
                today=timezone.localdate(),
            )
        else:
            claim = expenses.submit_expense_claim(
                user=request.user,
                activity=activity,
                description=data["description"],
                receipts=receipts,
                today=timezone.localdate(),
            )
        return self._answer(claim, code=status.HTTP_201_CREATED)

    @extend_schema(
        request={"multipart/form-data": ReceiptsInSerializer},
        responses={200: ExpenseClaimSerializer},
    )
    @action(detail=True, methods=["post"])
    def receipts(self, request, pk=None):
        """Add receipts to the user's draft claim."""
        serializer = ReceiptsInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        claim = expenses.add_receipts(
            user=request.user,
            claim=self.get_object(),
            receipts=_receipt_inputs(serializer.validated_data["receipts"]),
            today=timezone.localdate(),
        )
        return self._answer(claim)

    @extend_schema(request=None, responses={200: ExpenseClaimSerializer})
    @action(detail=True, methods=["delete"], url_path=r"receipts/(?P<receipt_pk>[0-9]+)")
    def remove_receipt(self, request, pk=None, receipt_pk=None):
        """Take a receipt out of the user's draft claim."""
        claim = self.get_object()
        receipt = claim.receipts.filter(pk=receipt_pk).first()
        if receipt is None:
            raise NotFound(_("This claim has no such receipt."))
        return self._answer(expenses.remove_receipt(user=request.user, receipt=receipt))

    @extend_schema(request=None, responses={200: ExpenseClaimSerializer})
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """Send the user's draft claim to staff for approval."""
        claim = expenses.submit_draft_claim(user=request.user, claim=self.get_object())
        return self._answer(claim)

    def perform_destroy(self, instance):
        """Delete the user's draft claim (sent claims are kept)."""
        expenses.delete_draft_claim(user=self.request.user, claim=instance)

    @extend_schema(request=None, responses={200: ExpenseClaimSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Staff: approve the claim, reimbursed on the member's next payslip."""
        claim = expenses.approve_expense_claim(staff_user=request.user, claim=self.get_object())
        return self._answer(claim)

    @extend_schema(request=ReasonSerializer, responses={200: ExpenseClaimSerializer})
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """Staff: refuse the claim, with the reason."""
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        claim = expenses.reject_expense_claim(
            staff_user=request.user,
            claim=self.get_object(),
            reason=serializer.validated_data["reason"],
        )
        return self._answer(claim)


def _receipt_inputs(receipts: list[dict]) -> list[expenses.ReceiptInput]:
    return [
        expenses.ReceiptInput(
            upload=receipt["file"],
            description=receipt["description"],
            category=receipt["category"],
            spent_on=receipt["spent_on"],
            amount=receipt["amount"],
            vat=receipt["vat"],
        )
        for receipt in receipts
    ]


def register(router) -> None:
    """Add this app's viewsets to the API router."""
    router.register("contracts", ContractViewSet, basename="contract")
    router.register("payslips", PayslipViewSet, basename="payslip")
    router.register("expense-claims", ExpenseClaimViewSet, basename="expense-claim")
    router.register("salary-simulations", SalarySimulationViewSet, basename="salary-simulation")
