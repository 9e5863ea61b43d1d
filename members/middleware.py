"""Language, session lifetime and two-factor rules that apply to every request."""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from members.selectors import HAS_AUTHENTICATOR_APP, has_elevated_powers, member_of

SIGNED_IN_AT = "coop_signed_in_at"
LAST_ACTIVITY = "coop_last_activity"
# Last activity is written to the session at most this often (seconds), not on every request.
ACTIVITY_RESOLUTION = 60


class PreferredLanguageMiddleware:
    """Use a signed-in member's preferred language when the browser chose none.

    An explicit choice (the language cookie set by the switcher) always wins.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if settings.LANGUAGE_COOKIE_NAME in request.COOKIES:
            return None
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        activate_preferred_language(request, user)
        return None


def activate_preferred_language(request, user) -> None:
    """Answer in the member's preferred language from now on in this request, unless the
    language cookie says otherwise (an explicit choice wins)."""
    if settings.LANGUAGE_COOKIE_NAME in request.COOKIES:
        return
    member = member_of(user)
    if member is not None:
        translation.activate(member.preferred_language)
        request.LANGUAGE_CODE = member.preferred_language


class StaffTwoFactorMiddleware:
    """Send staff without TOTP to set it up before they reach the admin."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            settings.COOP_STAFF_REQUIRE_TWO_FACTOR
            and user is not None
            and user.is_authenticated
            and user.is_staff
            and request.path.startswith(reverse("admin:index"))
            and not _has_totp(user)
        ):
            return redirect(f"{reverse('mfa_activate_totp')}?next={request.path}")
        return self.get_response(request)


def _has_totp(user) -> bool:
    from allauth.mfa.models import Authenticator

    known = getattr(user, HAS_AUTHENTICATOR_APP, None)
    if known is not None:
        # Annotated when the request's user was loaded (members.backends).
        return known
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


class SessionTimeoutMiddleware:
    """Sign out everyone SESSION_COOKIE_AGE after they signed in, and staff and space managers
    after COOP_STAFF_IDLE_TIMEOUT seconds without a request.

    Django's cookie age alone is renewed whenever the session changes, so the sign-in time is
    kept in the session and checked here. Staff's last activity is saved at most once a minute.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            self._check(request, user, now=int(time.time()))
        return self.get_response(request)

    def _check(self, request, user, *, now: int) -> None:
        session = request.session
        signed_in_at = session.get(SIGNED_IN_AT)
        if signed_in_at is None:
            session[SIGNED_IN_AT] = signed_in_at = now
        if now - signed_in_at > settings.SESSION_COOKIE_AGE:
            logout(request)
            messages.info(request, _("Your session ended. Please sign in again."))
            return
        if not has_elevated_powers(user):
            return
        last_activity = session.get(LAST_ACTIVITY, signed_in_at)
        if now - last_activity > settings.COOP_STAFF_IDLE_TIMEOUT:
            logout(request)
            messages.info(
                request,
                _("You were signed out after %(minutes)s minutes without activity.")
                % {"minutes": settings.COOP_STAFF_IDLE_TIMEOUT // 60},
            )
        elif now - last_activity >= ACTIVITY_RESOLUTION:
            session[LAST_ACTIVITY] = now
