"""The contracts app's part of a member's data export and anonymisation (see audit/privacy.py).

Payslips and their PDFs, the tax profile they were computed with, contracts, work days and
expense claims with their receipts are payroll and accounting records the law keeps (social
and tax inspection, ten years for accounting): anonymisation leaves them untouched.
"""

from django.db.models import Q
from django.utils.translation import ngettext

from audit.privacy import model_dict
from contracts.models import Contract, ContractWorker, ExpenseClaim, Payslip
from coop.documents import DocumentStatus
from members.models import Member

CONTRACT_FIELDS = (
    "id",
    "title",
    "description",
    "place",
    "kind",
    "status",
    "amount_to_invoice",
    "first_work_day",
    "last_work_day",
    "created_at",
    "submitted_at",
)
OPEN_CONTRACT_STATUSES = [
    Contract.Status.DRAFT,
    Contract.Status.SUBMITTED,
    Contract.Status.CHANGES_REQUESTED,
    Contract.Status.APPROVED,
    Contract.Status.IN_PROGRESS,
]


def _contracts_of(member: Member):
    return Contract.objects.filter(
        Q(workers__member=member) | Q(activity__owner=member) | Q(created_by=member.user)
    ).distinct()


def export_member_data(member: Member) -> dict:
    """Contracts with the member's own work days, payslips, expense claims with receipts, the
    tax profile; payslip PDFs and receipt scans."""
    contracts = list(_contracts_of(member).order_by("pk"))
    own_work = {
        worker.contract_id: worker
        for worker in ContractWorker.objects.filter(member=member).prefetch_related("days")
    }
    payslips = list(Payslip.objects.filter(member=member).order_by("pay_date", "pk"))
    claims = list(
        ExpenseClaim.objects.filter(member=member).prefetch_related("receipts").order_by("pk")
    )
    tax_profile = getattr(member, "tax_profile", None)
    files = [
        (f"payslips/{payslip.reference}.pdf", payslip.file)
        for payslip in payslips
        if payslip.status == DocumentStatus.READY and payslip.file
    ]
    for claim in claims:
        for receipt in claim.receipts.all():
            if receipt.file:
                name = receipt.file.name.rsplit("/", 1)[-1]
                files.append((f"receipts/{claim.pk}/{receipt.pk}-{name}", receipt.file))
    return {
        "data": {
            "contracts": [
                {
                    **{
                        name: value
                        for name, value in model_dict(contract).items()
                        if name in CONTRACT_FIELDS
                    },
                    # Only the member's own wage and days: co-workers' are theirs.
                    "my_work": _work_of(own_work.get(contract.pk)),
                }
                for contract in contracts
            ],
            "payslips": [
                model_dict(payslip, exclude=("member", "worker", "run")) for payslip in payslips
            ],
            "expense_claims": [
                {
                    **model_dict(claim, exclude=("member", "decided_by")),
                    "receipts": [
                        model_dict(receipt, exclude=("claim",)) for receipt in claim.receipts.all()
                    ],
                }
                for claim in claims
            ],
            "tax_profile": model_dict(tax_profile, exclude=("member",)) if tax_profile else None,
        },
        "files": files,
    }


def _work_of(worker: ContractWorker | None) -> dict | None:
    if worker is None:
        return None
    return {
        "daily_wage": str(worker.daily_wage),
        "days": [
            {"date": day.date.isoformat(), "portion": day.portion}
            for day in sorted(worker.days.all(), key=lambda day: day.date)
        ],
    }


def anonymisation_blockers(member: Member) -> list[str]:
    """Contracts not finished, and expense claims not yet decided or reimbursed."""
    blockers = []
    contracts = _contracts_of(member).filter(status__in=OPEN_CONTRACT_STATUSES).count()
    if contracts:
        blockers.append(
            ngettext(
                "%(count)d contract is still open.",
                "%(count)d contracts are still open.",
                contracts,
            )
            % {"count": contracts}
        )
    claims = ExpenseClaim.objects.filter(
        member=member,
        status__in=[ExpenseClaim.Status.SUBMITTED, ExpenseClaim.Status.APPROVED],
    ).count()
    if claims:
        blockers.append(
            ngettext(
                "%(count)d expense claim is still to be decided or reimbursed.",
                "%(count)d expense claims are still to be decided or reimbursed.",
                claims,
            )
            % {"count": claims}
        )
    return blockers
