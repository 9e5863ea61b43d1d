"""Run payroll for a period from the command line (cron, or by hand)."""

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from contracts.errors import ContractsError
from contracts.services.payroll import run_payroll


def _date(value: str) -> datetime.date:
    return datetime.date.fromisoformat(value)


class Command(BaseCommand):
    help = (
        "Pay every declared worker whose contract's work ended in the period (default: the "
        "last 31 days up to yesterday). Running it again pays nobody twice."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="start", type=_date, help="first day (YYYY-MM-DD)")
        parser.add_argument("--to", dest="end", type=_date, help="last day (YYYY-MM-DD)")

    def handle(self, *args, start=None, end=None, **options):
        today = timezone.localdate()
        end = end or today - datetime.timedelta(days=1)
        start = start or end - datetime.timedelta(days=30)
        try:
            run = run_payroll(staff_user=None, period_start=start, period_end=end, today=today)
        except ContractsError as error:
            raise CommandError(error.message) from error
        payslips = "1 payslip" if run.payslip_count == 1 else f"{run.payslip_count} payslips"
        self.stdout.write(
            f"Payroll run {run.pk}: {payslips}, net {run.total_net} €, "
            f"employer cost {run.total_employer_cost} €."
        )
