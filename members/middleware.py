"""Language and two-factor rules that apply to every request."""

from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation

from members.selectors import member_of


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
        member = member_of(user)
        if member is not None:
            translation.activate(member.preferred_language)
            request.LANGUAGE_CODE = member.preferred_language
        return None


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

    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
