"""Page objects: what a person fills and presses on each page, with its selectors in one place.

Fields are found by their ``name`` (what the server reads), buttons and links by their role and
the words the person reads, translated into the page's language through the project's own
catalogues, so a missing translation fails the journey too. When a page is redesigned, only
its helper here changes.
"""

import re
import time
from decimal import Decimal

from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from playwright.sync_api import Page, expect


def words(page: Page, msgid: str) -> str:
    """``msgid`` as the page's language says it."""
    with translation.override(page.language):
        return gettext(msgid)


def press(page: Page, msgid: str) -> None:
    """Press the visible button labelled ``msgid`` in the page's main content."""
    page.locator("main").get_by_role("button", name=words(page, msgid), exact=True).click()
    page.wait_for_load_state()


def fill_fields(page: Page, values: dict[str, str | dict], *, scope: str = "main") -> None:
    """Fill inputs and choose options by field name (an option by ``{"label": …}`` too)."""
    for name, value in values.items():
        field = page.locator(f"{scope} [name='{name}']")
        if isinstance(value, dict):
            field.select_option(**value)
        elif field.evaluate("element => element.tagName") == "SELECT":
            field.select_option(value)
        elif field.get_attribute("type") == "checkbox":
            field.set_checked(bool(value))
        else:
            field.fill(value)


def expect_message(page: Page, msgid: str, **values) -> None:
    """The success or error message ``msgid`` is shown."""
    text = words(page, msgid) % values if values else words(page, msgid)
    expect(page.get_by_text(text, exact=False).first).to_be_visible()


def page_width(page: Page) -> int:
    """How wide the page lays itself out: wider than the screen, it scrolls sideways."""
    return page.evaluate("() => document.documentElement.scrollWidth")


def euro(amount: Decimal, language: str) -> str:
    """An amount as the pages print it (coop's euro filter), without the non-breaking spaces."""
    from coop.templatetags.money import euro as euro_filter

    with translation.override(language):
        return str(euro_filter(amount))


# Accounts ------------------------------------------------------------------------------------


def sign_up(page: Page, *, email: str, password: str) -> None:
    page.goto(reverse("account_signup"))
    fill_fields(page, {"email": email, "password1": password, "password2": password})
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()


def confirm_email(page: Page, link: str) -> None:
    page.goto(link)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()


def sign_in(page: Page, *, email: str, password: str) -> None:
    page.goto(reverse("account_login"))
    fill_fields(page, {"login": email, "password": password})
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()


def current_code(secret: str) -> str:
    """What an authenticator app holding ``secret`` shows now, computed as allauth checks it.

    allauth accepts the current period's code only, so a code about to expire is waited out,
    as a person would wait for the next one.
    """
    period = mfa_settings.TOTP_PERIOD
    if period - time.time() % period < 10:
        time.sleep(period - time.time() % period)
    return format_hotp_value(hotp_value(secret, int(time.time()) // period))


def give_authenticator_code(page: Page, code: str) -> None:
    """The second step of signing in, for staff and space managers with TOTP."""
    expect(page).to_have_url(re.compile(re.escape(reverse("mfa_authenticate"))))
    fill_fields(page, {"code": code})
    page.locator("main form button[type=submit]:not([form])").click()
    page.wait_for_load_state()


# Members -------------------------------------------------------------------------------------


def apply_for_membership(page: Page, **identity: str) -> None:
    page.locator(f"main a[href='{reverse('members:apply')}']").first.click()
    fill_fields(page, identity)
    press(page, "Send my application")


def open_activity(page: Page, *, name: str, description: str) -> None:
    page.locator(f"main a[href='{reverse('members:activity_create')}']").first.click()
    fill_fields(page, {"name": name, "description": description})
    press(page, "Open the Activity")


def add_client(page: Page, **fields: str) -> None:
    page.goto(reverse("invoicing:client_create"))
    fill_fields(page, fields, scope="main form[method=post]")
    press(page, "Add the client")


def fill_invoice(page: Page, *, header: dict[str, str], lines: list[dict[str, str]]) -> None:
    """Fill the invoice form's header and lines (the form shows three empty lines)."""
    page.goto(reverse("invoicing:invoice_create"))
    fill_fields(page, header)
    for index, line in enumerate(lines):
        fill_fields(page, {f"lines-{index}-{name}": value for name, value in line.items()})


def save_draft(page: Page) -> None:
    page.locator("main form.invoice-form button.button[name=save]").click()
    page.wait_for_load_state()


def submit_invoice(page: Page) -> None:
    press(page, "Submit the invoice")


def invoice_status(page: Page) -> str:
    return page.locator("main .status, main .badge").first.inner_text().strip()


# Spaces --------------------------------------------------------------------------------------


def search_free_rooms(page: Page, *, date: str, start_time: str, duration_minutes: int) -> None:
    page.goto(reverse("spaces:search"))
    fill_fields(
        page,
        {"date": date, "start_time": start_time, "duration_minutes": str(duration_minutes)},
    )
    press(page, "Search")


def choose_room(page: Page, room_name: str) -> None:
    page.locator("main").get_by_role("link", name=room_name, exact=True).click()
    page.wait_for_load_state()


def book_for_new_renter(page: Page, *, title: str, end_time: str, renter: dict) -> None:
    """Book the room open on the page for a new outside renter described in the form
    (``renter``: the client's fields by name, without their ``renter-`` prefix)."""
    fill_fields(page, {"title": title, "end_time": end_time, "renter-create": "on"})
    fill_fields(page, {f"renter-{name}": value for name, value in renter.items()})
    press(page, "Book")


def create_feed(page: Page, *, room_pk: int | None = None) -> str:
    """Create a calendar address (a room's, or the user's own bookings'); return it."""
    page.goto(reverse("spaces:feeds"))
    if room_pk is not None:
        page.locator("main select[name=room]").select_option(str(room_pk))
    press(page, "Create a calendar address")
    return page.locator("main code.token").last.inner_text().strip()


# Client portal -------------------------------------------------------------------------------


def ask_for_portal_link(page: Page, *, email: str) -> None:
    """On the portal's first page, ask for a sign-in link by e-mail."""
    page.goto(reverse("portal:start"))
    fill_fields(page, {"email": email})
    press(page, "Send me a sign-in link")


def open_portal_link(page: Page, link: str) -> None:
    """Open a portal link from an e-mail and confirm: the portal's home page opens."""
    page.goto(link)
    press(page, "Continue to my documents")
    expect(page).to_have_url(re.compile(re.escape(reverse("portal:home")) + "$"))


def open_portal_document(page: Page, title: str) -> None:
    """Open a document from the portal's list by its title ("Invoice 2026-000001")."""
    page.locator("main").get_by_role("link", name=title, exact=True).click()
    page.wait_for_load_state()


def download_portal_pdf(page: Page):
    """Download the document's PDF from its portal page; return Playwright's download."""
    with page.expect_download() as download:
        page.locator("main").get_by_role("link", name=words(page, "Download PDF")).click()
    return download.value


def ask_portal_question(page: Page, message: str) -> None:
    fill_fields(page, {"message": message})
    press(page, "Send the question")


def mark_question_answered(page: Page) -> None:
    """On the member's invoice page, mark the client's first open question answered."""
    press(page, "Mark answered")


# Quotes --------------------------------------------------------------------------------------


def fill_quote(page: Page, *, header: dict[str, str], lines: list[dict[str, str]]) -> None:
    """Fill the quote form's terms and lines (the form shows three empty lines)."""
    page.goto(reverse("quotes:quote_create"))
    fill_fields(page, header)
    for index, line in enumerate(lines):
        fill_fields(page, {f"lines-{index}-{name}": value for name, value in line.items()})


def send_quote(page: Page) -> None:
    press(page, "Send to the client")


def make_new_version(page: Page) -> None:
    press(page, "Make a new version")


def draw_signature(page: Page) -> None:
    """Draw a stroke on the public page's signature pad, as with a mouse."""
    canvas = page.locator("canvas[data-signature-canvas]")
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + 40)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(box["x"] + 20 + step * 25, box["y"] + 40 + (step % 3) * 20)
    page.mouse.up()


def accept_quote(page: Page, *, name: str, function: str, po_number: str) -> None:
    fill_fields(
        page,
        {
            "accept-name": name,
            "accept-function": function,
            "accept-po_number": po_number,
            "accept-conditions": "on",
        },
    )
    draw_signature(page)
    press(page, "Accept the quote")


def decline_quote(page: Page, *, reason: str) -> None:
    fill_fields(page, {"decline-reason": reason})
    press(page, "Decline the quote")


def ask_for_change(page: Page, *, message: str) -> None:
    fill_fields(page, {"change-message": message})
    press(page, "Send my request")


# Orders --------------------------------------------------------------------------------------


def figure(page: Page, msgid: str):
    """The value of the figure labelled ``msgid`` (the figures atop an Activity or an order)."""
    label = page.locator("dt").filter(has_text=re.compile(f"^{re.escape(words(page, msgid))}$"))
    return page.locator("main dl.figures > div").filter(has=label).locator("dd")


def invoice_the_deposit(page: Page, *, percent: str) -> None:
    """On an order's page, draw up the deposit invoice (it opens as a draft)."""
    label = words(page, "Invoice the deposit (%(percent)s %%)") % {"percent": percent}
    page.locator("main").get_by_role("button", name=label, exact=True).click()
    page.wait_for_load_state()
