"""API authentication by the tokens users create on their profile (members.ApiToken)."""

import datetime
import functools

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from coop.compiled import CompiledInstances
from members import services
from members.backends import holds_permissions
from members.models import ApiToken
from members.selectors import HOLDS_PERMISSIONS, has_elevated_powers

KEYWORDS = (b"token", b"bearer")


@functools.cache
def _tokens_with_users() -> QuerySet[ApiToken]:
    """Tokens with their user, the user's member profile and whether the user holds any
    permission: what an API request asks of them, in one query. Built once per process and
    never evaluated itself, only copies of it."""
    # The national number is read (and decrypted) only by the answers that show it.
    query = ApiToken.objects.select_related("user", "user__member").defer("user__member__niss")
    return query.annotate(**{HOLDS_PERMISSIONS: holds_permissions()})


# One token by its key's hash (unique), as ``.first()`` would read it, written to SQL once per
# process: building the query costs more than running it.
_token_with_user: CompiledInstances[ApiToken] = CompiledInstances(
    ApiToken,
    lambda _shape, *, key_hash: _tokens_with_users().filter(key_hash=key_hash)[:1],
    key_hash=str,
)


class ApiTokenAuthentication(BaseAuthentication):
    """Accept ``Authorization: Token <key>`` (or ``Bearer <key>``) for a usable token.

    Expired, revoked and unknown keys get a 401 saying which. Staff and space managers are let
    in only with a token created after a second-factor check and younger than the staff limit,
    even if they became staff after creating it.
    """

    keyword = "Token"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in KEYWORDS:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                _("Invalid token header: give the key after “Token ”, without spaces.")
            )
        try:
            key = parts[1].decode("ascii")
        except UnicodeError:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        return self.authenticate_key(key, now=timezone.now())

    def authenticate_key(self, key: str, *, now: datetime.datetime):
        tokens = _token_with_user.instances(key_hash=services.hash_api_key(key))
        token = tokens[0] if tokens else None
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed(_("This token was revoked."))
        if token.expires_at <= now:
            raise exceptions.AuthenticationFailed(_("This token has expired."))
        user = token.user
        setattr(user, HOLDS_PERMISSIONS, getattr(token, HOLDS_PERMISSIONS))
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        if has_elevated_powers(user):
            if not token.second_factor_verified:
                raise exceptions.AuthenticationFailed(
                    _(
                        "Staff and space managers need a token created after entering their"
                        " authenticator code: create a new one on your profile page."
                    )
                )
            limit = datetime.timedelta(days=settings.COOP_API_TOKEN_MAX_DAYS_ELEVATED)
            if token.created_at + limit <= now:
                raise exceptions.AuthenticationFailed(_("This token has expired."))
        services.record_api_token_use(token=token, now=now)
        return (user, token)

    def authenticate_header(self, request) -> str:
        return self.keyword


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """Describe the token header in the OpenAPI schema."""

    target_class = ApiTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "`Token <key>` (or `Bearer <key>`), with a key created on your profile page"
                " (/profile/tokens/)."
            ),
        }
