"""The way in: where pages that need an active member send someone who is not one yet."""

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from members.models import Member
from members.selectors import member_of


def onboarding_redirect(request) -> HttpResponseRedirect | None:
    """Send someone without a member profile, or whose application is under way, to their
    checklist on the dashboard with a word on why; None for everyone else.

    Pages that only active members use call this first, so that the way in is shown instead of
    a bare "not found" or "forbidden".
    """
    member = member_of(request.user)
    if member is None:
        messages.info(
            request, _("Become a member first: apply for membership, then this page opens to you.")
        )
    elif member.status == Member.Status.APPLICANT:
        messages.info(
            request,
            _("This page opens to you once your membership has started: here is what is left."),
        )
    else:
        return None
    return redirect("members:dashboard")
