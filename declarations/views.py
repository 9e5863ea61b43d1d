"""Member pages: the yearly individual accounts (staff: any member's, by ?member=)."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from audit.services import record_event
from declarations.pdf import render_account_pdf
from declarations.selectors import account_member_for, account_years, year_account
from members.models import Member


def _member(request) -> Member:
    try:
        return account_member_for(request.user, request.GET.get("member"))
    except Member.DoesNotExist as error:
        raise Http404 from error


@login_required
@require_GET
def accounts(request):
    """The years of the member's paid work, each with its individual account."""
    if request.GET.get("member") or hasattr(request.user, "member"):
        member = _member(request)
        years = account_years(member)
    else:
        member, years = None, []  # no member profile: nothing was ever paid
    return render(
        request,
        "declarations/account_list.html",
        {
            "account_member": member,
            "years": years,
            "for_staff": member is not None and member.user_id != request.user.pk,
        },
    )


@login_required
@require_GET
def account_download(request):
    """One year's individual account as a PDF."""
    member = _member(request)
    year = request.GET.get("year", "")
    if not year.isdigit() or int(year) not in account_years(member):
        raise Http404
    account = year_account(member, int(year))
    document = render_account_pdf(account, today=timezone.localdate())
    record_event(action="downloaded", obj=member, reason=f"individual account {year}")
    response = HttpResponse(document, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="individual-account-{year}-{member.pk}.pdf"'
    )
    return response
