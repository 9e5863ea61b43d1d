"""The client portal's pages: sign-in by e-mail link, documents, payment, questions.

Every page but the sign-in ones needs a portal session (``portal.sessions``); without one it
sends the browser to the portal's sign-in page. Every read goes through ``portal.selectors``
scoped to the session's address: another address's document is a 404.
"""

import functools
import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from audit.services import record_event
from checkout.services import payment_options_for
from coop.forms import add_service_error
from coop.pagination import Paginator
from invoicing import payment_qr
from invoicing.models import Invoice, InvoiceDocument
from invoicing.selectors import invoices_visible_to
from portal import selectors, services, sessions
from portal.errors import PortalError
from portal.forms import PasswordForm, PasswordSignInForm, QuestionForm, SignInRequestForm
from portal.models import PortalQuestion

logger = logging.getLogger(__name__)

PAGE_SIZE = 20
DOWNLOADS = {
    InvoiceDocument.Format.PDF: ("pdf", "application/pdf"),
    InvoiceDocument.Format.UBL: ("xml", "application/xml"),
}


def _client_ip(request) -> str | None:
    return (request.META.get("REMOTE_ADDR") or "").strip() or None


def portal_view(view):
    """Run ``view(request, identity, …)`` for a signed-in portal client, in their language
    unless they chose another; send anyone else to the portal's sign-in page."""

    @functools.wraps(view)
    @never_cache
    def wrapper(request, *args, **kwargs):
        identity = sessions.current_identity(request)
        if identity is None:
            return redirect("portal:start")
        if settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
            translation.activate(identity.language)
            request.LANGUAGE_CODE = identity.language
        return view(request, identity, *args, **kwargs)

    return wrapper


# Signing in


@never_cache
@require_http_methods(["GET", "POST"])
def start(request):
    """Ask for a sign-in link; the answer is the same whether the address is a client's."""
    if sessions.current_identity(request) is not None and request.method == "GET":
        return redirect("portal:home")
    form = SignInRequestForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.request_sign_in_link(
                email=form.cleaned_data["email"],
                ip_address=_client_ip(request),
                now=timezone.now(),
            )
        except PortalError as error:
            add_service_error(form, error)
            status = 429
        else:
            return render(request, "portal/link_sent.html", {"title": _("Check your e-mail")})
    return render(
        request, "portal/start.html", {"form": form, "title": _("Client portal")}, status=status
    )


@never_cache
@require_http_methods(["GET", "POST"])
def sign_in(request, token: str):
    """Open a sign-in link: a button to press (GET changes nothing, so that mail scanners that
    open links do not use them up), then the portal session (POST)."""
    if request.method == "GET":
        return render(request, "portal/sign_in.html", {"title": _("Sign in to the portal")})
    try:
        link = services.use_token(token=token, now=timezone.now())
    except PortalError as error:
        form = SignInRequestForm()
        context = {"form": form, "title": _("Client portal"), "link_error": error.message}
        return render(request, "portal/start.html", context, status=400)
    sessions.open_session(
        request,
        email=link.email,
        language=selectors.client_language(link.email),
        now=timezone.now(),
    )
    return redirect("portal:home")


@never_cache
@require_http_methods(["GET", "POST"])
def password_sign_in(request):
    """Sign in with the e-mail address and the password the client chose; the session sees
    what an e-mail link's session sees."""
    form = PasswordSignInForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        now = timezone.now()
        try:
            email = services.sign_in_with_password(
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password"],
                ip_address=_client_ip(request),
                now=now,
            )
        except PortalError as error:
            form.add_error(None, error.message)
            status = 429 if error.code == "throttled" else 400
        else:
            sessions.open_session(
                request,
                email=email,
                language=selectors.client_language(email),
                now=now,
                opened_by=services.PASSWORD_SESSION,
            )
            return redirect("portal:home")
    elif request.method == "POST":
        status = 400
    context = {"form": form, "title": _("Sign in with a password")}
    return render(request, "portal/password_sign_in.html", context, status=status)


@portal_view
@require_http_methods(["GET", "POST"])
def password(request, identity):
    """Set or change the password of the signed-in address (from an e-mail link's session)."""
    form = PasswordForm(request.POST or None)
    opened_by = sessions.opened_by(request)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.set_password(
                identity=identity,
                opened_by=opened_by,
                password=form.cleaned_data["password1"],
                now=timezone.now(),
            )
        except PortalError as error:
            add_service_error(form, error)
            status = 400
        else:
            messages.success(
                request,
                _(
                    "Your password is set: you may now sign in with your e-mail address and "
                    "this password, or with an e-mail link as before."
                ),
            )
            return redirect("portal:home")
    elif request.method == "POST":
        status = 400
    context = {
        "title": _("Your password"),
        "form": form,
        "identity": identity,
        "link_session": opened_by != services.PASSWORD_SESSION,
    }
    return render(request, "portal/password.html", context, status=status)


@require_POST
def sign_out(request):
    """End the portal session (a member signed in on the same browser stays signed in)."""
    sessions.close_session(request)
    messages.success(request, _("You are signed out of the portal."))
    return redirect("portal:start")


# Documents


@portal_view
def home(request, identity):
    """What the client owes, and its latest documents."""
    client_ids = selectors.client_ids_of(identity)
    today = timezone.localdate()
    summary = selectors.summary_of(identity, client_ids, today=today)
    latest = list(selectors.document_rows(identity, client_ids)[:5])
    context = {
        "title": _("Your documents"),
        "identity": identity,
        "summary": summary,
        "rows": _rows(latest, today=today),
    }
    return render(request, "portal/home.html", context)


@portal_view
def document_list(request, identity):
    """Every issued invoice and credit note of the address, from every member, by page."""
    client_ids = selectors.client_ids_of(identity)
    paginator = Paginator(selectors.document_rows(identity, client_ids), PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    context = {
        "title": _("Invoices and credit notes"),
        "identity": identity,
        "page_obj": page,
        "rows": _rows(page.object_list, today=timezone.localdate()),
    }
    return render(request, "portal/document_list.html", context)


@portal_view
def quote_list(request, identity):
    """The quotes and orders the members sent the address, by page."""
    from quotes.models import Quote, format_number

    paginator = Paginator(selectors.quote_rows(identity), PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    labels = dict(Quote.Status.choices)
    rows = [
        {
            **row,
            "number": format_number(row["series"], row["sequence_number"]),
            # An order whose new version the member is still drafting reads as confirmed.
            "status_label": labels[
                row["status"]
                if row["status"] in selectors.QUOTE_STATUSES
                else Quote.Status.CONFIRMED
            ],
        }
        for row in page.object_list
    ]
    context = {
        "title": _("Quotes and orders"),
        "identity": identity,
        "page_obj": page,
        "rows": rows,
    }
    return render(request, "portal/quote_list.html", context)


def _rows(rows, *, today) -> list[dict]:
    return [
        {
            **row,
            "payment_status": selectors.payment_status(
                row["status"], row["kind"], row["due_date"], row["amount_due"], today=today
            ),
        }
        for row in rows
    ]


def _get_document(identity, pk: int) -> Invoice:
    invoice = selectors.document_of(identity, pk)
    if invoice is None:
        raise Http404("No document matches the given query.")
    return invoice


def _document_context(identity, invoice: Invoice, *, form: QuestionForm | None = None) -> dict:
    today = timezone.localdate()
    snapshot = invoice.snapshot
    status = selectors.payment_status(
        invoice.status, invoice.kind, invoice.due_date, invoice.amount_due, today=today
    )
    is_open = not invoice.is_credit_note and status in ("open", "overdue", "partially_paid")
    payment = None
    if is_open:
        # The QR code asks for what is left to pay, not the invoice's total.
        due = {**snapshot, "totals": {**snapshot["totals"], "payable": str(invoice.amount_due)}}
        payment = {
            "beneficiary": snapshot["seller"]["name"],
            "iban": snapshot["seller"]["iban"],
            "bic": snapshot["seller"]["bic"],
            "amount": invoice.amount_due,
            "communication": snapshot["structured_communication"],
            "qr_svg": payment_qr.epc_qr_svg(due),
        }
    return {
        "title": invoice_title(invoice),
        "identity": identity,
        "invoice": invoice,
        "snapshot": snapshot,
        "member_name": snapshot.get("member_name", ""),
        "lines": snapshot.get("lines", []),
        "payment_status": status,
        "payment": payment,
        # Paying online (the checkout app's pay page), when a provider is configured.
        "online_payment": _online_payment(invoice) if is_open else None,
        "questions": list(selectors.questions_of(identity, invoice)[:20]),
        "form": form or QuestionForm(),
    }


def _online_payment(invoice: Invoice) -> dict | None:
    """The pay page's address and the button's words, or None when no provider is configured
    (the bank transfer above is always there)."""
    options = payment_options_for(invoice)
    if not options or not options["online_available"]:
        return None
    label = _("Pay by Bancontact, card or direct debit")
    if options["simulated"]:
        label = _("%(label)s (simulated: no money is taken)") % {"label": label}
    return {"url": options["pay_url"], "label": label}


def invoice_title(invoice: Invoice) -> str:
    if invoice.is_credit_note:
        return _("Credit note %(number)s") % {"number": invoice.number}
    return _("Invoice %(number)s") % {"number": invoice.number}


@portal_view
def document_detail(request, identity, pk: int):
    """One document: its lines, what is due, how to pay it, and the questions asked."""
    invoice = _get_document(identity, pk)
    return render(request, "portal/document_detail.html", _document_context(identity, invoice))


@portal_view
@require_POST
def document_question(request, identity, pk: int):
    """Send the member a question about one of the client's documents."""
    invoice = _get_document(identity, pk)
    form = QuestionForm(request.POST)
    if form.is_valid():
        try:
            services.ask_question(
                identity=identity,
                invoice=invoice,
                message=form.cleaned_data["message"],
                now=timezone.now(),
            )
        except PortalError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Your question was sent. The member will answer you."))
            return redirect("portal:document_detail", pk=invoice.pk)
    context = _document_context(identity, invoice, form=form)
    return render(request, "portal/document_detail.html", context, status=400)


def _download(request, identity, pk: int, document_format: str):
    document = selectors.stored_document(identity, pk, document_format)
    if document is None:
        # Not the client's, or not rendered yet: the same answer.
        raise Http404("No document matches the given query.")
    invoice = document.invoice
    if document.is_ready:
        extension, content_type = DOWNLOADS[document_format]
        try:
            handle = document.file.open("rb")
        except OSError:
            logger.exception("Invoice document %s cannot be read from storage", document.pk)
        else:
            record_event(
                action="downloaded",
                obj=invoice,
                reason=f"portal {document_format}",
                object_repr=str(invoice),
            )
            return FileResponse(
                handle,
                as_attachment=True,
                filename=f"{invoice.number}.{extension}",
                content_type=content_type,
            )
    context = {"title": invoice_title(invoice), "invoice": invoice, "identity": identity}
    return render(request, "portal/document_pending.html", context, status=404)


@portal_view
def quote_pdf(request, identity, pk: int):
    """The PDF of the latest version of a quote the client was sent."""
    document = selectors.quote_document(identity, pk)
    if document is None:
        raise Http404("No quote matches the given query.")
    quote, version = document.version.quote, document.version
    if document.is_ready:
        try:
            handle = document.file.open("rb")
        except OSError:
            logger.exception("Quote document %s cannot be read from storage", document.pk)
        else:
            record_event(action="downloaded", obj=quote, reason=f"portal v{version.version}")
            return FileResponse(
                handle,
                as_attachment=True,
                filename=f"{quote.number}-v{version.version}.pdf",
                content_type="application/pdf",
            )
    raise Http404("The quote's PDF is being prepared: try again in a minute.")


@portal_view
def document_pdf(request, identity, pk: int):
    return _download(request, identity, pk, InvoiceDocument.Format.PDF)


@portal_view
def document_ubl(request, identity, pk: int):
    return _download(request, identity, pk, InvoiceDocument.Format.UBL)


# The member's side


@login_required
@require_POST
def question_answered(request, pk: int):
    """Mark a client's question answered, on an invoice the member sees."""
    question = get_object_or_404(
        PortalQuestion.objects.filter(
            invoice__in=invoices_visible_to(request.user, Invoice.objects.all()).values("pk")
        ),
        pk=pk,
    )
    services.mark_question_answered(user=request.user, question=question, now=timezone.now())
    messages.success(request, _("The question is marked answered."))
    return redirect("invoicing:invoice_detail", pk=question.invoice_id)
