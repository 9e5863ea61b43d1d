"""How django-allauth fits our users."""

from allauth.account.adapter import DefaultAccountAdapter

from members.middleware import activate_preferred_language


class AccountAdapter(DefaultAccountAdapter):
    """Store e-mail addresses in lower case so one person has one account."""

    def clean_email(self, email: str) -> str:
        return super().clean_email(email).strip().lower()

    def _get_login_attempts_cache_key(self, request, **credentials) -> str:
        # allauth prefixes the account's lock-out key with the requested host name; one
        # account must have one counter whichever of our host names an attacker uses.
        login = credentials.get("email", credentials.get("username", ""))
        return f"login:{login.strip().lower()}"

    def login(self, request, user) -> None:
        """Sign in, then speak the member's language: the "signed in as" message is written
        now, and the pages after it are in their preferred language."""
        super().login(request, user)
        activate_preferred_language(request, user)
