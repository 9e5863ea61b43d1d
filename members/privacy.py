"""The members app's part of a member's data export and anonymisation (see audit/privacy.py)."""

from allauth.account.models import EmailAddress
from django.utils.translation import gettext as _

from audit.privacy import model_dict
from members.models import Activity, LedgerEntry, Member


def export_member_data(member: Member) -> dict:
    """The member's account, member record (national number in full), Activities and ledgers,
    shares and membership events."""
    user = member.user
    owned = list(Activity.objects.filter(owner=member).order_by("pk"))
    shared = Activity.objects.filter(co_members=member).exclude(owner=member).order_by("pk")
    return {
        "data": {
            "user": {
                "email": user.email,
                "name": user.name,
                "date_joined": user.date_joined.isoformat(),
                "last_login": user.last_login.isoformat() if user.last_login else None,
            },
            "member": model_dict(member, exclude=("niss_fingerprint", "user", "approved_by")),
            "activities": [
                {**model_dict(activity, exclude=("owner",)), "role": "owner"} for activity in owned
            ]
            + [
                # A shared Activity's ledger and papers are its owner's: name it only.
                {"id": activity.pk, "name": activity.name, "role": "co-member"}
                for activity in shared
            ],
            "ledger_entries": [
                model_dict(entry, exclude=("author", "source_type", "source_id"))
                for entry in LedgerEntry.objects.filter(activity__in=owned)
                .order_by("created_at", "pk")
                .iterator()
            ],
            "shares": [
                model_dict(subscription, exclude=("member", "recorded_by"))
                for subscription in member.shares.order_by("pk")
            ],
            "membership_events": [
                model_dict(event, exclude=("member", "actor"))
                for event in member.events.order_by("created_at", "pk")
            ],
        }
    }


def anonymisation_blockers(member: Member) -> list[str]:
    if member.status != Member.Status.LEFT:
        return [_("Only a member who has left can be anonymised.")]
    return []


def anonymise_member_data(*, member: Member, placeholder: str, now) -> None:
    """Replace the member's identity and contact details; disable their account."""
    member.legal_name = placeholder
    member.street = ""
    member.postal_code = ""
    member.city = ""
    member.phone = ""
    member.iban = ""
    member.niss = ""
    member.niss_fingerprint = ""
    member.anonymised_at = now
    member.save(
        update_fields=[
            "legal_name",
            "street",
            "postal_code",
            "city",
            "phone",
            "iban",
            "niss",
            "niss_fingerprint",
            "anonymised_at",
        ]
    )
    user = member.user
    user.email = f"{placeholder}@anonymised.invalid"
    user.name = ""
    user.is_active = False
    user.is_staff = False
    user.is_superuser = False
    # A new unusable password also ends every open session (Django checks its hash).
    user.set_unusable_password()
    user.save(update_fields=["email", "name", "is_active", "is_staff", "is_superuser", "password"])
    user.groups.clear()
    user.user_permissions.clear()
    EmailAddress.objects.filter(user=user).delete()
    _delete_credentials(user)


def _delete_credentials(user) -> None:
    from allauth.mfa.models import Authenticator

    from members.models import ApiToken

    Authenticator.objects.filter(user=user).delete()
    ApiToken.objects.filter(user=user).delete()
