"""The demo world holds a white-collar exit, and its quarter's DmfA passes the schema."""

from decimal import Decimal

from django.core.management import call_command
from django.utils import timezone

from contracts.models import Contract, Payslip
from declarations.dmfa import build_dmfa, schema_errors
from declarations.selectors import Quarter, quarter_declaration


def test_the_demo_pays_a_white_collar_exit_with_its_holiday_pay(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    call_command("seed_demo")

    payslip = Payslip.objects.get(worker__contract__ends_engagement=True)
    contract = payslip.worker.contract
    assert contract.is_white_collar
    # 5 days at €210.00: 1,050.00; 15.34 % of it in three parts: 80.54 + 71.40 + 9.14.
    assert payslip.exit_holiday_pay == Decimal("161.08")
    assert payslip.gross == Decimal("1211.08")
    assert Contract.objects.filter(employee_category="blue_collar").count() == 1

    document = build_dmfa(
        quarter_declaration(Quarter.of(contract.last_work_day)), now=timezone.now()
    )
    assert schema_errors(document) == []
