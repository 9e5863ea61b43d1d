"""Member pages of quotes, and the client's public page."""

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit.services import record_event
from coop.forms import add_service_error
from coop.idempotency import one_time_form
from coop.keyset import cursor_from, keyset_page
from coop.throttling import count_hit
from invoicing.calculation import compute_totals
from invoicing.forms import initial_lines, line_formset
from invoicing.models import InvoiceLine
from invoicing.vat import rate_name
from invoicing.views import (
    _onboarding_unless_active_member_or_staff,
    _unchecked_totals,
    _vat_rows,
)
from members.models import Language
from quotes import pages, selectors, services
from quotes.errors import QuotingError
from quotes.forms import AcceptForm, ChangeRequestForm, DeclineForm, QuoteForm
from quotes.models import Quote, QuoteDocument, QuoteVersion
from quotes.pdf import schedule_rows

logger = logging.getLogger(__name__)

PAGE_SIZE = 25
UNIT_LABELS = dict(InvoiceLine.Unit.choices)
# The public page: requests per IP address and window, reads and answers apart.
PUBLIC_READS_PER_WINDOW = 120
PUBLIC_ANSWERS_PER_WINDOW = 20
PUBLIC_WINDOW_SECONDS = 600


def _get_quote(request, pk: int) -> Quote:
    if pk >= 2**63:
        raise Http404("No Quote matches the given query.")
    return get_object_or_404(
        selectors.quotes_visible_to(request.user).select_related(
            "client", "activity", "current_version"
        ),
        pk=pk,
    )


# List


@login_required
@require_GET
def quote_list(request):
    """List the user's quotes, drafts first then the newest number first, a page at a time."""
    user = request.user
    # From an Activity's page: its quotes only.
    activity = selectors.visible_activity(user, request.GET.get("activity"))
    rows, split = selectors.quote_list_of(user)
    if activity is not None:
        split = ("activity_id", [activity.pk])
    page = keyset_page(
        rows,
        selectors.QUOTE_NUMBER_KEYSET,
        size=PAGE_SIZE,
        cursor=cursor_from(request, selectors.QUOTE_NUMBER_KEYSET, Quote.objects.all()),
        split=split,
    )
    quotes = page.rows
    labels = dict(Quote.Status.choices)
    for row in quotes:
        row["number"] = (
            f"{row['series']}-{row['sequence_number']:06d}" if row["sequence_number"] else ""
        )
        row["status_label"] = labels.get(row["status"], row["status"])
    has_any = bool(quotes) or selectors.has_quotes(user)
    return render(
        request,
        "quotes/quote_list.html",
        {"page": page, "quotes": quotes, "has_any": has_any, "activity": activity},
    )


# Drafts


def _draft_page(request, quote: Quote | None = None):
    user = request.user
    version = quote.current_version if quote else None
    lines_error = ""
    not_saved = False
    if request.method == "POST":
        form = QuoteForm(request.POST, user=user, quote=quote)
        formset = line_formset(request.POST)
        if "add_line" in request.POST or "recalculate" in request.POST:
            initial = {name: request.POST.get(name, "") for name in QuoteForm.base_fields}
            form = QuoteForm(user=user, quote=quote, initial=initial)
            extra = 1 if "add_line" in request.POST else 0
            formset = line_formset(initial=formset.rows_as_initial(), extra=extra)
        elif form.is_valid() & formset.is_valid():
            data = form.cleaned_data
            try:
                quote = services.save_draft(
                    user=user,
                    activity=data["activity"],
                    client=data["client"],
                    lines=formset.line_inputs(),
                    terms=form.terms(),
                    today=timezone.localdate(),
                    quote=quote,
                )
            except QuotingError as error:
                not_saved = True
                if error.field == "lines":
                    lines_error = error.message
                else:
                    add_service_error(form, error)
            else:
                messages.success(request, _("Draft saved. Check it, then send it to the client."))
                return redirect("quotes:quote_detail", pk=quote.pk)
        else:
            not_saved = True
    elif quote is None:
        initial = {name: request.GET.get(name) for name in ("client", "activity")}
        form = QuoteForm(user=user, initial=initial)
        formset = line_formset()
    else:
        # The lines fill the forms and the totals: read once.
        lines = pages.lines_of(version)
        form = QuoteForm(user=user, quote=quote, initial=QuoteForm.initial_from(quote, version))
        formset = line_formset(initial=initial_lines(lines), extra=1)
    if formset.is_bound:
        preview = _preview_context(formset, getattr(form, "cleaned_data", {}).get("client"))
    else:
        totals = compute_totals(line.as_line() for line in (lines if version else []))
        preview = {"totals": totals, "vat_rows": _vat_rows(totals)}
    context = {
        "quote": quote,
        "form": form,
        "formset": formset,
        "lines_error": lines_error,
        "not_saved": not_saved,
        "can_quote": form.has_activities(),
        "has_clients": form.has_clients(),
        **preview,
    }
    return render(request, "quotes/quote_form.html", context)


def _preview_context(formset, client) -> dict:
    """Totals of the valid rows and, once a client is chosen, the first rule they break or
    what sending would refuse, in a quote's words (invoicing's rules, one code path)."""
    lines = formset.line_inputs()
    totals, problem = _unchecked_totals(lines, [])
    warning = ""
    if client is not None and lines:
        try:
            totals = compute_totals(services.check_lines(lines, client))
        except QuotingError as error:
            problem = error.message
        else:
            warning = services.place_of_supply_refusal(
                client, [(line.vat_category, line.supply_kind) for line in lines]
            )
    return {
        "totals": totals,
        "vat_rows": _vat_rows(totals),
        "problem": problem,
        "warning": warning,
        "incomplete": formset.has_incomplete_rows(),
    }


@login_required
@require_POST
def quote_preview(request):
    """Return the totals and VAT breakdown of the posted quote form as an HTML fragment."""
    form = QuoteForm(request.POST, user=request.user)
    form.is_valid()
    context = _preview_context(line_formset(request.POST), form.cleaned_data.get("client"))
    return render(request, "invoicing/_totals.html", {**context, "live": True})


@login_required
@require_http_methods(["GET", "POST"])
@one_time_form
def quote_create(request):
    """Draw up a new quote for one of the member's clients."""
    if (response := _onboarding_unless_active_member_or_staff(request)) is not None:
        return response
    return _draft_page(request)


@login_required
@require_http_methods(["GET", "POST"])
def quote_edit(request, pk: int):
    """Change the draft version of a quote."""
    quote = pages.quote_to_edit(request.user, pk)
    if quote is None:
        raise Http404("No Quote matches the given query.")
    if quote.status != Quote.Status.DRAFT:
        messages.info(request, _("This quote was sent: make a new version to change it."))
        return redirect("quotes:quote_detail", pk=quote.pk)
    return _draft_page(request, quote)


@login_required
@require_http_methods(["GET", "POST"])
def quote_delete(request, pk: int):
    """Delete a quote never sent, after a confirmation page."""
    quote = _get_quote(request, pk)
    if request.method == "POST":
        try:
            services.delete_draft(user=request.user, quote=quote)
        except QuotingError as error:
            messages.error(request, error.message)
            return redirect("quotes:quote_detail", pk=quote.pk)
        messages.success(request, _("Draft deleted."))
        return redirect("quotes:quote_list")
    if quote.status != Quote.Status.DRAFT or quote.sequence_number is not None:
        messages.error(request, _("Only a quote never sent can be deleted."))
        return redirect("quotes:quote_detail", pk=quote.pk)
    return render(request, "quotes/quote_confirm_delete.html", {"quote": quote})


# Detail and transitions


def _line_rows(lines) -> list[dict]:
    return [
        {
            "description": line.description,
            "quantity": line.quantity,
            "unit": UNIT_LABELS.get(line.unit_code, line.unit_code),
            "unit_price": line.unit_price,
            "category": rate_name(line.vat_category, line.vat_rate),
            "rate": line.vat_rate,
            "net_amount": line.line_total,
            "exemption_reason": line.exemption_reason,
            "allowance_amount": line.allowance_amount,
            "allowance_reason": line.allowance_reason,
        }
        for line in lines
    ]


@login_required
@require_GET
def quote_detail(request, pk: int):
    """A quote with its current version's lines, its versions and what happened to it."""
    quote = pages.quote_shown_to(request.user, pk)
    if quote is None:
        raise Http404("No Quote matches the given query.")
    version = quote.current_version
    lines = pages.lines_of(version)
    totals = compute_totals(line.as_line() for line in lines)
    versions = pages.versions_of(quote)
    events = pages.events_of(quote)
    document = next((v for v in versions if v.pk == getattr(version, "pk", None)), None)
    pdf = getattr(document, "document", None) if document else None
    context = {
        "quote": quote,
        "version": version,
        "lines": _line_rows(lines),
        "totals": totals,
        "vat_rows": _vat_rows(totals),
        "versions": versions,
        "events": events,
        "live_links": quote.live_links,
        "pdf": pdf,
        "schedule": schedule_rows(version.schedule if version else []),
        "can_edit": quote.status == Quote.Status.DRAFT,
        "can_send": quote.status == Quote.Status.DRAFT and bool(lines),
        "can_delete": quote.status == Quote.Status.DRAFT and quote.sequence_number is None,
        "can_new_version": services.can_make_new_version(quote),
        "can_resend": quote.status == Quote.Status.SENT,
        # Where the work is taxed, checked as an invoice's is: sending refuses the wrong VAT.
        "place_of_supply_warning": (
            services.place_of_supply_refusal(
                quote.client, [(line.vat_category, line.supply_kind) for line in lines]
            )
            if quote.status in (Quote.Status.DRAFT, Quote.Status.CHANGE_REQUESTED)
            else ""
        ),
    }
    return render(request, "quotes/quote_detail.html", context)


def _transition(request, pk: int, action, success: str):
    quote = _get_quote(request, pk)
    try:
        action(user=request.user, quote=quote)
    except QuotingError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, success)
    return redirect("quotes:quote_detail", pk=quote.pk)


@login_required
@require_POST
def quote_send(request, pk: int):
    """Send the draft version to the client."""
    return _transition(
        request,
        pk,
        services.send_quote,
        _("Quote sent: the client receives it by e-mail with the link to answer it."),
    )


@login_required
@require_POST
def quote_resend(request, pk: int):
    """E-mail the client a new link; earlier links stop working."""
    return _transition(
        request,
        pk,
        services.resend_quote,
        _("A new link was e-mailed to the client; the earlier links no longer work."),
    )


@login_required
@require_POST
def quote_revoke(request, pk: int):
    """Withdraw the quote's links."""
    return _transition(
        request,
        pk,
        services.revoke_link,
        _("The links to this quote no longer work."),
    )


@login_required
@require_POST
def quote_new_version(request, pk: int):
    """Start a new version from the current one."""
    quote = _get_quote(request, pk)
    try:
        services.new_version(user=request.user, quote=quote)
    except QuotingError as error:
        messages.error(request, error.message)
        return redirect("quotes:quote_detail", pk=quote.pk)
    messages.success(request, _("New version drafted: change it, then send it again."))
    return redirect("quotes:quote_edit", pk=quote.pk)


def _pdf_response(request, version: QuoteVersion, quote: Quote, *, audit: bool):
    document = QuoteDocument.objects.filter(version=version).first()
    if document is not None and document.is_ready:
        try:
            handle = document.file.open("rb")
        except OSError:
            logger.exception("Quote document %s cannot be read from storage", document.pk)
        else:
            if audit:
                record_event(action="downloaded", obj=quote, reason=f"v{version.version}")
            return FileResponse(
                handle,
                as_attachment=True,
                filename=f"{quote.number}-v{version.version}.pdf",
                content_type="application/pdf",
            )
    return None


@login_required
@require_GET
def quote_pdf(request, pk: int, version: int):
    """Download the PDF of a sent version; a page says so while it is being prepared."""
    quote = _get_quote(request, pk)
    found = QuoteVersion.objects.filter(quote=quote, version=version).only("pk", "version").first()
    if found is None:
        raise Http404("No version matches the given query.")
    response = _pdf_response(request, found, quote, audit=True)
    if response is not None:
        return response
    return render(request, "quotes/document_pending.html", {"quote": quote}, status=404)


# The client's public page


def _client_origin(request) -> tuple[str | None, str]:
    address = (request.META.get("REMOTE_ADDR") or "").strip() or None
    return address, (request.META.get("HTTP_USER_AGENT") or "")[:500]


def _throttled(request, kind: str, limit: int) -> bool:
    ip, _agent = _client_origin(request)
    hits, _ends = count_hit(
        f"quote-public:{kind}:{ip or '-'}", now=timezone.now(), seconds=PUBLIC_WINDOW_SECONDS
    )
    return hits > limit


def _page_language(request, quote: Quote | None) -> str:
    asked = request.GET.get("lang", "")
    if asked in Language.values:
        return asked
    return quote.language if quote is not None else Language.FRENCH


def _refusal(request, state: str, language: str, link=None) -> HttpResponse:
    """A clear page for a link that does not (or no longer) open a quote: 404 or 410. A link
    once given names its quote, who offered it and whom to write to."""
    status = 404 if state == services.LinkState.UNKNOWN else 410
    context = {"state": state, "language": language}
    if link is not None:
        snapshot = link.version.snapshot or {}
        seller = snapshot.get("seller") or {}
        context |= {
            "quote_number": link.version.quote.number,
            "member_name": snapshot.get("member_name", ""),
            "seller_name": seller.get("name", ""),
            "seller_email": seller.get("email", ""),
        }
    with translation.override(language):
        response = render(request, "quotes/public_refused.html", context, status=status)
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


def _public_context(link, language: str, **forms) -> dict:
    version = link.version
    quote = version.quote
    snapshot = version.snapshot or {}
    from quotes.pdf import quote_context

    return {
        "quote": quote,
        "version": version,
        "doc": quote_context(snapshot),
        "snapshot": snapshot,
        "language": language,
        "languages": Language.choices,
        "answerable": services.awaits_answer(quote, version, today=timezone.localdate()),
        "status": (status := services.public_status(quote, version)),
        "status_label": Quote.Status(status).label,
        "link_expires": services.link_expiry_wording(link.expires_at),
        "pdf_ready": bool(version.pdf_sha256),
        **forms,
    }


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def quote_public(request, token: str):
    """The client's page: the quote in their language, its PDF, and their answer."""
    if _throttled(
        request,
        "answer" if request.method == "POST" else "read",
        PUBLIC_ANSWERS_PER_WINDOW if request.method == "POST" else PUBLIC_READS_PER_WINDOW,
    ):
        response = HttpResponse(_("Too many requests: wait a few minutes."), status=429)
        response["Retry-After"] = str(PUBLIC_WINDOW_SECONDS)
        return response
    now = timezone.now()
    link = services.find_link(token)
    state = services.link_state(link, now=now)
    language = _page_language(request, link.version.quote if link else None)
    if state != services.LinkState.OPEN:
        return _refusal(request, state, language, link)
    ip, agent = _client_origin(request)
    forms = {
        "accept_form": AcceptForm(prefix="accept"),
        "decline_form": DeclineForm(prefix="decline"),
        "change_form": ChangeRequestForm(prefix="change"),
    }
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        with translation.override(language):
            try:
                if action == "accept":
                    form = forms["accept_form"] = AcceptForm(request.POST, prefix="accept")
                    if form.is_valid():
                        services.accept_quote(
                            link=link,
                            name=form.cleaned_data["name"],
                            function=form.cleaned_data["function"],
                            conditions_accepted=form.cleaned_data["conditions"],
                            signature=form.cleaned_data["signature"],
                            po_number=form.cleaned_data["po_number"],
                            ip=ip,
                            user_agent=agent,
                        )
                        messages.success(request, _("Thank you: you accepted the quote."))
                        return redirect(_public_url(token, language))
                elif action == "decline":
                    form = forms["decline_form"] = DeclineForm(request.POST, prefix="decline")
                    if form.is_valid():
                        services.decline_quote(
                            link=link, reason=form.cleaned_data["reason"], ip=ip, user_agent=agent
                        )
                        messages.success(
                            request, _("You declined the quote. Thank you for telling us why.")
                        )
                        return redirect(_public_url(token, language))
                elif action == "change":
                    form = forms["change_form"] = ChangeRequestForm(request.POST, prefix="change")
                    if form.is_valid():
                        services.request_change(
                            link=link,
                            message=form.cleaned_data["message"],
                            ip=ip,
                            user_agent=agent,
                        )
                        messages.success(
                            request,
                            _("Your request was sent: you will receive a new version."),
                        )
                        return redirect(_public_url(token, language))
                else:
                    raise QuotingError(_("Choose to accept, decline or ask for a change."))
            except QuotingError as error:
                if error.code in ("revoked", "replaced", "expired"):
                    return _refusal(
                        request,
                        {
                            "revoked": services.LinkState.REVOKED,
                            "replaced": services.LinkState.REPLACED,
                            "expired": services.LinkState.EXPIRED,
                        }[error.code],
                        language,
                        link,
                    )
                target = {
                    "accept": "accept_form",
                    "decline": "decline_form",
                    "change": "change_form",
                }.get(action)
                if target == "accept_form" and error.field == "signature":
                    # Said above the form, whose other answers stay; the unreadable drawing
                    # is not sent again.
                    data = request.POST.copy()
                    data["accept-signature"] = ""
                    form = forms[target] = AcceptForm(data, prefix="accept")
                    form.is_valid()
                    form.add_error(None, error.message)
                elif target and error.field:
                    add_service_error(forms[target], error)
                else:
                    # Already answered, the PDF not ready yet: said above the quote.
                    messages.error(request, error.message)
        status = 400
        link = services.find_link(token)
    else:
        services.record_view(link=link, ip=ip, user_agent=agent, now=now)
    with translation.override(language):
        response = render(
            request,
            "quotes/public.html",
            {**_public_context(link, language, **forms), "token": token},
            status=status,
        )
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "same-origin"
    return response


def _public_url(token: str, language: str) -> str:
    return f"{reverse('quotes:public', args=[token])}?lang={language}"


@never_cache
@require_GET
def quote_public_pdf(request, token: str):
    """The PDF of the version a link shows."""
    if _throttled(request, "read", PUBLIC_READS_PER_WINDOW):
        return HttpResponse(_("Too many requests: wait a few minutes."), status=429)
    link = services.find_link(token)
    state = services.link_state(link, now=timezone.now())
    language = _page_language(request, link.version.quote if link else None)
    if state != services.LinkState.OPEN:
        return _refusal(request, state, language, link)
    response = _pdf_response(request, link.version, link.version.quote, audit=False)
    if response is None:
        with translation.override(language):
            return render(
                request,
                "quotes/public_refused.html",
                {"state": "pending", "language": language},
                status=404,
            )
    response["X-Robots-Tag"] = "noindex"
    return response
