"""Page objects of the Django admin, staff's workplace: its selectors in one place."""

import datetime
from decimal import Decimal

from django.urls import reverse
from playwright.sync_api import Page, expect


def run_action(page: Page, changelist: str, pk: int, action: str) -> None:
    """Tick one row of a changelist, choose the action and run it; expect a success message."""
    page.goto(changelist)
    page.locator(f"#changelist input[name=_selected_action][value='{pk}']").check()
    page.locator("#changelist select[name=action]").select_option(action)
    page.locator("#changelist button[name=index]").click()
    page.wait_for_load_state()
    expect(page.locator("ul.messagelist li.success").first).to_be_visible()


def add_payment(page: Page, *, invoice, amount: Decimal, received_on: datetime.date) -> None:
    """Record a payment received for ``invoice`` (opened from the invoice, as staff do)."""
    page.goto(reverse("admin:invoicing_payment_add") + f"?invoice={invoice.pk}")
    page.locator("#payment_form input[name=amount]").fill(str(amount))
    page.locator("#payment_form input[name=received_on]").fill(received_on.isoformat())
    page.locator("#payment_form input[name=_save]").click()
    page.wait_for_load_state()
    expect(page.locator("ul.messagelist li.success").first).to_be_visible()


def run_payroll(page: Page, *, period_start: datetime.date, period_end: datetime.date) -> None:
    page.goto(reverse("admin:contracts_payrollrun_run"))
    page.locator("#content input[name=period_start]").fill(period_start.isoformat())
    page.locator("#content input[name=period_end]").fill(period_end.isoformat())
    page.locator("#content form [type=submit]").first.click()
    page.wait_for_load_state()
    expect(page.locator("ul.messagelist li.success").first).to_be_visible()
