"""Freelancer pages: dashboard, Activities, profile, shares and the membership application."""

import functools

from allauth.core import ratelimit
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.i18n import set_language
from stdnum import iban as iban_module

from coop.errors import CoopError
from coop.forms import add_service_error
from coop.idempotency import one_time_form
from coop.keyset import cursor_from
from members import home, selectors, services
from members.forms import ActivityForm, ApiTokenForm, MembershipApplicationForm, ProfileForm
from members.models import Activity, LedgerEntry, Member
from members.onboarding import onboarding_redirect

LEDGER_PAGE_SIZE = 25
ACTIVITY_PAGE_SIZE = 25


def _require_member(request) -> Member:
    member = selectors.member_of(request.user)
    if member is None:
        raise Http404(_("You have no member profile yet."))
    return member


@functools.cache
def _standing_links() -> dict[str, str]:
    """Where the home's figures lead, reversed once per process (six reversals cost a third
    of the section's rendering)."""
    invoices = reverse("invoicing:invoice_list")
    return {
        "awaiting_payment": f"{invoices}?status=open",
        "overdue": f"{invoices}?status=overdue",
        "contracts_awaiting": f"{reverse('contracts:index')}?status=submitted",
        # contracts:detail is contracts:index followed by the contract's number.
        "contract_prefix": reverse("contracts:index"),
        "payslips": reverse("contracts:payslips"),
        "expense_claims": reverse("contracts:expenses"),
        "bookings": reverse("spaces:index"),
    }


@login_required
def dashboard(request):
    """Show the member's Activities with their balances and the latest ledger entries, and an
    active member where they stand (``members.home``); show someone who is not a member yet
    their way in."""
    member = selectors.member_of(request.user)
    if member is None or member.status == Member.Status.APPLICANT:
        return _onboarding(request, member)
    activities = selectors.activities_visible_to(request.user)
    if request.user.is_staff:
        activities = activities.of_user(request.user)
    activities = list(activities)
    activity_ids = [activity.pk for activity in activities]
    context = {
        "member": member,
        "activities": activities,
        "recent_entries": selectors.recent_ledger_entries_for(activity_ids),
    }
    if member is not None and member.status == Member.Status.ACTIVE:
        context["standing_links"] = _standing_links()
        context["standing"] = home.standing_of(
            activities=activity_ids,
            member=member.pk,
            user=request.user.pk,
            today=timezone.localdate(),
            now=timezone.now(),
        )
    return render(request, "members/dashboard.html", context)


@login_required
@require_GET
def activity_list(request):
    """List the Activities the user owns or shares, newest first, one page at a time."""
    page = selectors.activity_page_of(
        request.user,
        size=ACTIVITY_PAGE_SIZE,
        cursor=cursor_from(request, selectors.ACTIVITY_KEYSET, Activity.objects.all()),
    )
    return render(
        request,
        "members/activity_list.html",
        {"member": selectors.member_of(request.user), "page": page},
    )


def _onboarding(request, member: Member | None):
    """The checklist from the application to the first invoice, with how to pay the shares."""
    seller = settings.COOP_SELLER
    context = {
        "member": member,
        "onboarding": selectors.onboarding_of(request.user, member),
        "share_nominal_value": settings.COOP_SHARE_NOMINAL_VALUE,
        "bank": {
            "beneficiary": seller["name"],
            "iban": iban_module.format(seller["iban"]),
            "bic": seller["bic"],
        },
        "manages_sites": selectors.has_elevated_powers(request.user),
    }
    return render(request, "members/onboarding.html", context)


# What ``get_object_or_404`` says of an Activity the user does not see.
ACTIVITY_NOT_FOUND = f"No {Activity._meta.object_name} matches the given query."


@login_required
def activity_detail(request, pk: int):
    """Show one Activity the user may see, with its ledger one page at a time."""
    # The Activity, its balances, owner and co-members: one query compiled once per process.
    row = selectors.activity_row_of(request.user, pk)
    if row is None:
        raise Http404(ACTIVITY_NOT_FOUND)
    page = selectors.ledger_page_of(
        Activity(pk=pk),
        size=LEDGER_PAGE_SIZE,
        cursor=cursor_from(request, selectors.LEDGER_KEYSET, LedgerEntry.objects.all()),
    )
    activity = {
        "pk": pk,
        "name": row["name"],
        "description": row["description"],
        "available_balance": row["available_balance"],
        "planned_balance": row["planned_balance"],
        "guaranteed_balance": row["guaranteed_balance"],
        "owner": {"legal_name": row["owner__legal_name"]},
    }
    return render(
        request,
        "members/activity_detail.html",
        {"activity": activity, "page": page, "co_members": row["co_member_names"]},
    )


@login_required
@require_http_methods(["GET", "POST"])
@one_time_form
def activity_create(request):
    """Open a new Activity."""
    if (response := onboarding_redirect(request)) is not None:
        return response
    member = selectors.member_of(request.user)
    if member.status != Member.Status.ACTIVE:
        raise PermissionDenied(_("Only active members can open an Activity."))
    form = ActivityForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            activity = services.create_activity(
                owner=member,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
            )
        except CoopError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Activity “%(name)s” opened.") % {"name": activity.name})
            return redirect("members:activity_detail", pk=activity.pk)
    return render(request, "members/activity_form.html", {"form": form, "member": member})


@login_required
@require_http_methods(["GET", "POST"])
def apply(request):
    """Apply for membership: identity, bank account and the first share."""
    if selectors.member_of(request.user) is not None:
        messages.info(request, _("You have already applied for membership."))
        return redirect("members:profile")
    form = MembershipApplicationForm(
        request.POST or None, initial={"preferred_language": request.LANGUAGE_CODE}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.apply_for_membership(
                user=request.user,
                legal_name=data["legal_name"],
                street=data["street"],
                postal_code=data["postal_code"],
                city=data["city"],
                country=data["country"],
                phone=data["phone"],
                preferred_language=data["preferred_language"],
                iban=data["iban"],
                niss=data["niss"],
                number_of_shares=data["number_of_shares"],
                today=timezone.localdate(),
            )
        except CoopError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request,
                _("Thank you! Your application was received. Staff will review it shortly."),
            )
            return redirect("members:profile")
    return render(request, "members/apply.html", {"form": form})


@login_required
def profile(request):
    """Show the member's profile and membership history."""
    member = selectors.member_of(request.user)
    return render(
        request,
        "members/profile.html",
        {"member": member, "events": member.events.select_related("actor") if member else []},
    )


@login_required
@require_http_methods(["GET", "POST"])
def profile_edit(request):
    """Let a member change their address, phone, language and IBAN."""
    member = _require_member(request)
    form = ProfileForm(request.POST or None, instance=member)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.update_profile(member=member, **data)
        except CoopError as error:
            add_service_error(form, error)
        else:
            # The next page is in the language just chosen, so is its confirmation.
            with translation.override(data["preferred_language"]):
                messages.success(request, _("Your profile was saved."))
            response = redirect("members:profile")
            _remember_language(response, data["preferred_language"])
            return response
    return render(request, "members/profile_form.html", {"form": form, "member": member})


@login_required
def shares(request):
    """List the member's share subscriptions and their total."""
    member = _require_member(request)
    subscriptions = list(selectors.shares_of(member))
    context = {
        "member": member,
        "subscriptions": subscriptions,
        "total_shares": sum(item.number_of_shares for item in subscriptions),
        "total_amount": sum((item.amount for item in subscriptions), start=0),
        "paid_amount": sum((item.amount for item in subscriptions if item.is_paid), start=0),
    }
    return render(request, "members/shares.html", context)


API_TOKENS_SHOWN = 50


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def api_tokens(request):
    """List the user's API tokens and create one; the new key is shown in this answer only."""
    user = request.user
    has_authenticator = selectors.totp_authenticator_of(user) is not None
    needs_authenticator = selectors.has_elevated_powers(user) and not has_authenticator
    form = ApiTokenForm(
        request.POST or None,
        max_days=services.api_token_lifetime_limit(user),
        needs_code=has_authenticator,
    )
    new_key = None
    if request.method == "POST" and not needs_authenticator and form.is_valid():
        data = form.cleaned_data
        # Authenticator codes are short: wrong ones count like failed sign-ins.
        code_attempts = f"api-token-code-{user.pk}"
        if has_authenticator and not ratelimit.consume(
            request, action="login_failed", key=code_attempts, dry_run=True
        ):
            form.add_error(None, _("Too many attempts. Try again in a few minutes."))
        else:
            try:
                token, new_key = services.create_api_token(
                    user=user,
                    name=data["name"],
                    lifetime_days=data["lifetime_days"],
                    totp_code=data.get("totp_code", ""),
                )
            except CoopError as error:
                if error.code == "second_factor_invalid":
                    ratelimit.consume(request, action="login_failed", key=code_attempts)
                add_service_error(form, error)
            else:
                form = ApiTokenForm(
                    max_days=services.api_token_lifetime_limit(user),
                    needs_code=has_authenticator,
                )
                messages.success(
                    request,
                    _("Token “%(name)s” created. Copy its key now: it will not be shown again.")
                    % {"name": token.name},
                )
    context = {
        "form": form,
        "tokens": selectors.api_tokens_of(user)[:API_TOKENS_SHOWN],
        "new_key": new_key,
        "needs_authenticator": needs_authenticator,
        "now": timezone.now(),
    }
    return render(request, "members/api_tokens.html", context)


@login_required
@require_POST
def api_token_revoke(request, pk: int):
    """Revoke one of the user's API tokens."""
    token = get_object_or_404(selectors.api_tokens_of(request.user), pk=pk)
    services.revoke_api_token(user=request.user, token=token)
    messages.success(request, _("Token “%(name)s” revoked.") % {"name": token.name})
    return redirect("members:api_tokens")


def _remember_language(response, language: str) -> None:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


@require_POST
def switch_language(request):
    """Switch the interface language; a member's choice is also saved to their profile."""
    response = set_language(request)
    language = request.POST.get("language", "")
    if language in dict(settings.LANGUAGES) and request.user.is_authenticated:
        Member.objects.filter(user=request.user).update(preferred_language=language)
    return response
