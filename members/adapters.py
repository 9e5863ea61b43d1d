"""How django-allauth fits our users."""

from allauth.account.adapter import DefaultAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    """Store e-mail addresses in lower case so one person has one account."""

    def clean_email(self, email: str) -> str:
        return super().clean_email(email).strip().lower()
