"""The invoice page waits for its documents and shows them once ready, without reloading."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from coop.celery import app as celery_app
from invoicing.services.documents import render_document
from invoicing.services.issue import submit_invoice
from tests.conftest import PASSWORD
from tests.invoicing.conftest import belgian_client, line, no_review  # noqa: F401
from tests.journeys import pages

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_invoice_page_shows_the_documents_once_rendered(
    open_page,
    member,
    activity,
    belgian_client,  # noqa: F811
    no_review,  # noqa: F811
):
    """While the PDF is prepared the page says so and asks again quietly; no meta refresh."""
    from invoicing.services.drafts import save_draft

    draft = save_draft(
        user=member.user,
        activity=activity,
        client=belgian_client,
        lines=[line()],
        today=timezone.localdate(),
        buyer_reference="PO-2026-77",
    )
    celery_app.conf.task_always_eager = False  # the documents wait, as for a busy worker
    invoice = submit_invoice(user=member.user, invoice=draft)
    celery_app.conf.task_always_eager = True
    page = open_page(language="en")
    pages.sign_in(page, email=member.user.email, password=PASSWORD)
    page.goto(f"/invoices/{invoice.pk}/")
    expect(page.locator("main")).to_contain_text(pages.words(page, "Being prepared…"))
    assert page.locator("meta[http-equiv=refresh]").count() == 0
    download = page.locator("main").get_by_role("link", name=pages.words(page, "Download PDF"))
    expect(download).to_have_count(0)

    for document in invoice.documents.all():
        render_document(document=document)
    # The page asks every 5 s: the link shows at the next answer, however busy the machine.
    expect(download).to_be_visible(timeout=30_000)
