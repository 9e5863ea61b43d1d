"""Every write of the members app: membership lifecycle, shares, Activities and the ledger."""

import datetime
import hashlib
import secrets
from collections.abc import Iterable
from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, models, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from audit.services import diff_fields, field_values, record_event
from coop import bounds
from coop.errors import CoopError
from coop.fields import fingerprint
from coop.money import has_at_most_cents
from members.models import (
    Activity,
    ApiToken,
    LedgerEntry,
    LedgerEntryKind,
    LedgerStage,
    Member,
    MembershipEvent,
    ShareSubscription,
    User,
)
from members.selectors import has_elevated_powers, totp_authenticator_of
from members.validators import clean_iban, clean_niss


class MembersError(CoopError):
    """A membership, share or ledger rule refused the request."""


def _validation_message(error: ValidationError) -> str:
    return " ".join(str(message) for message in error.messages)


# Events the member hears about by e-mail.
NOTIFIED_EVENTS = {
    MembershipEvent.Kind.APPROVED,
    MembershipEvent.Kind.ACTIVATED,
    MembershipEvent.Kind.SUSPENDED,
    MembershipEvent.Kind.REINSTATED,
}


def _record_event(
    *, member: Member, kind: str, from_status: str, actor: User | None, reason: str, now
) -> MembershipEvent:
    event = MembershipEvent.objects.create(
        member=member,
        kind=kind,
        from_status=from_status,
        to_status=member.status,
        actor=actor,
        reason=reason,
        created_at=now,
    )
    if kind in NOTIFIED_EVENTS:
        from members.tasks import notify_membership_event_task

        transaction.on_commit(lambda: notify_membership_event_task.delay(event.pk), robust=True)
    return event


@transaction.atomic
def notify_membership_event(
    *, event: MembershipEvent, now: datetime.datetime | None = None
) -> bool:
    """E-mail the member about a step of their membership, once; return whether a mail left."""
    event = (
        MembershipEvent.objects.select_for_update().select_related("member__user").get(pk=event.pk)
    )
    if event.notified_at is not None or event.kind not in NOTIFIED_EVENTS:
        return False
    member = event.member
    with translation.override(member.preferred_language):
        context = {"member": member, "event": event, "site_url": settings.SITE_URL}
        subject = render_to_string("emails/membership_event_subject.txt", context).strip()
        body = render_to_string("emails/membership_event.txt", context)
    send_mail(subject, body, None, [member.user.email])
    event.notified_at = now or timezone.now()
    event.save(update_fields=["notified_at"])
    return True


def _lock_member(member: Member) -> Member:
    return Member.objects.select_for_update().get(pk=member.pk)


def _clean_identity(*, iban: str, niss: str, member_pk: int | None = None) -> tuple[str, str, str]:
    """Validate IBAN and NISS; return the compact IBAN, the NISS and its fingerprint."""
    try:
        compact_iban = clean_iban(iban)
    except ValidationError as error:
        raise MembersError(_validation_message(error), code=error.code, field="iban") from error
    if not niss:
        return compact_iban, "", ""
    try:
        compact_niss = clean_niss(niss)
    except ValidationError as error:
        raise MembersError(_validation_message(error), code=error.code, field="niss") from error
    niss_fingerprint = fingerprint(compact_niss)
    duplicates = Member.objects.filter(niss_fingerprint=niss_fingerprint)
    if member_pk is not None:
        duplicates = duplicates.exclude(pk=member_pk)
    if duplicates.exists():
        raise MembersError(
            _("A member with this national register number already exists."),
            code="niss_duplicate",
            field="niss",
        )
    return compact_iban, compact_niss, niss_fingerprint


@transaction.atomic
def apply_for_membership(
    *,
    user: User,
    legal_name: str,
    street: str,
    postal_code: str,
    city: str,
    country: str,
    phone: str,
    preferred_language: str,
    iban: str,
    niss: str,
    number_of_shares: int,
    today: datetime.date,
    now: datetime.datetime | None = None,
) -> Member:
    """Record a membership application and its share subscription (unpaid)."""
    now = now or timezone.now()
    if Member.objects.filter(user=user).exists():
        raise MembersError(_("You have already applied for membership."), code="duplicate")
    if number_of_shares < 1:
        raise MembersError(
            _("Subscribe at least one share."), code="shares", field="number_of_shares"
        )
    compact_iban, compact_niss, niss_fingerprint = _clean_identity(iban=iban, niss=niss)
    try:
        with transaction.atomic():
            member = Member.objects.create(
                user=user,
                legal_name=legal_name.strip(),
                street=street.strip(),
                postal_code=postal_code.strip(),
                city=city.strip(),
                country=country.upper(),
                phone=phone.strip(),
                preferred_language=preferred_language,
                iban=compact_iban,
                niss=compact_niss,
                niss_fingerprint=niss_fingerprint,
                status=Member.Status.APPLICANT,
                created_at=now,
            )
    except IntegrityError as error:
        # Two applications raced past the checks above: the unique constraints decide.
        raise MembersError(
            _("This application duplicates an existing member."), code="duplicate"
        ) from error
    ShareSubscription.objects.create(
        member=member,
        share_class=ShareSubscription.ShareClass.A,
        number_of_shares=number_of_shares,
        nominal_value=settings.COOP_SHARE_NOMINAL_VALUE,
        subscribed_on=today,
    )
    record_event(action="created", obj=member, actor=user)
    _record_event(
        member=member,
        kind=MembershipEvent.Kind.APPLIED,
        from_status=Member.Status.APPLICANT,
        actor=user,
        reason="",
        now=now,
    )
    if not user.name:
        user.name = member.legal_name
        user.save(update_fields=["name"])
    return member


def _activate_if_ready(*, member: Member, actor: User | None, now) -> None:
    """Activate an approved applicant once a share is paid."""
    if member.status != Member.Status.APPLICANT or not member.is_approved:
        return
    if not member.shares.filter(paid_on__isnull=False).exists():
        return
    member.status = Member.Status.ACTIVE
    member.save(update_fields=["status"])
    changes = {"status": [Member.Status.APPLICANT, Member.Status.ACTIVE]}
    record_event(action="changed", obj=member, actor=actor, changes=changes)
    _record_event(
        member=member,
        kind=MembershipEvent.Kind.ACTIVATED,
        from_status=Member.Status.APPLICANT,
        actor=actor,
        reason=_("Application approved and first share paid."),
        now=now,
    )


@transaction.atomic
def approve_application(
    *, member: Member, actor: User, reason: str = "", now: datetime.datetime | None = None
) -> Member:
    """Approve an applicant; the member becomes active once the first share is paid."""
    now = now or timezone.now()
    member = _lock_member(member)
    if member.status != Member.Status.APPLICANT:
        raise MembersError(
            _("Only applications can be approved; this member is %(status)s.")
            % {"status": member.get_status_display().lower()},
            code="not_applicant",
        )
    if member.is_approved:
        raise MembersError(_("This application is already approved."), code="already_approved")
    member.approved_at = now
    member.approved_by = actor
    member.save(update_fields=["approved_at", "approved_by"])
    record_event(action="approved", obj=member, actor=actor, reason=reason)
    _record_event(
        member=member,
        kind=MembershipEvent.Kind.APPROVED,
        from_status=member.status,
        actor=actor,
        reason=reason,
        now=now,
    )
    _activate_if_ready(member=member, actor=actor, now=now)
    return member


@transaction.atomic
def subscribe_shares(
    *,
    member: Member,
    number_of_shares: int,
    subscribed_on: datetime.date,
    actor: User | None,
    share_class: str = ShareSubscription.ShareClass.A,
) -> ShareSubscription:
    """Record a further subscription of shares at the current nominal value."""
    if number_of_shares < 1:
        raise MembersError(
            _("Subscribe at least one share."), code="shares", field="number_of_shares"
        )
    member = _lock_member(member)
    if member.status == Member.Status.LEFT:
        raise MembersError(_("A member who has left cannot subscribe shares."), code="left")
    return ShareSubscription.objects.create(
        member=member,
        share_class=share_class,
        number_of_shares=number_of_shares,
        nominal_value=settings.COOP_SHARE_NOMINAL_VALUE,
        subscribed_on=subscribed_on,
        recorded_by=actor,
    )


@transaction.atomic
def record_share_payment(
    *,
    subscription: ShareSubscription,
    paid_on: datetime.date,
    actor: User,
    now: datetime.datetime | None = None,
) -> ShareSubscription:
    """Record that a subscription was paid; activates an approved applicant."""
    now = now or timezone.now()
    subscription = ShareSubscription.objects.select_for_update().get(pk=subscription.pk)
    if subscription.paid_on is not None:
        raise MembersError(
            _("These shares were already paid on %(date)s.")
            % {"date": date_format(subscription.paid_on, "SHORT_DATE_FORMAT")},
            code="already_paid",
        )
    if paid_on < subscription.subscribed_on:
        raise MembersError(
            _("Shares cannot be paid before they were subscribed."), code="paid_before_subscribed"
        )
    subscription.paid_on = paid_on
    subscription.recorded_by = actor
    subscription.save(update_fields=["paid_on", "recorded_by"])
    member = _lock_member(subscription.member)
    _activate_if_ready(member=member, actor=actor, now=now)
    return subscription


def _change_status(
    *,
    member: Member,
    allowed_from: Iterable[str],
    to_status: str,
    kind: str,
    actor: User,
    reason: str,
    now: datetime.datetime | None,
) -> Member:
    now = now or timezone.now()
    if not reason.strip():
        raise MembersError(_("Give a reason for this change."), code="reason", field="reason")
    member = _lock_member(member)
    if member.status not in allowed_from:
        raise MembersError(
            _("“%(action)s” is not possible for a member whose status is “%(status)s”.")
            % {
                "status": member.get_status_display(),
                "action": MembershipEvent.Kind(kind).label,
            },
            code="invalid_transition",
        )
    from_status = member.status
    member.status = to_status
    member.save(update_fields=["status"])
    changes = {"status": [from_status, to_status]}
    record_event(action="changed", obj=member, actor=actor, changes=changes, reason=reason)
    _record_event(
        member=member, kind=kind, from_status=from_status, actor=actor, reason=reason, now=now
    )
    return member


@transaction.atomic
def suspend_member(
    *, member: Member, actor: User, reason: str, now: datetime.datetime | None = None
) -> Member:
    """Suspend an active member."""
    return _change_status(
        member=member,
        allowed_from=[Member.Status.ACTIVE],
        to_status=Member.Status.SUSPENDED,
        kind=MembershipEvent.Kind.SUSPENDED,
        actor=actor,
        reason=reason,
        now=now,
    )


@transaction.atomic
def reinstate_member(
    *, member: Member, actor: User, reason: str, now: datetime.datetime | None = None
) -> Member:
    """Make a suspended member active again."""
    return _change_status(
        member=member,
        allowed_from=[Member.Status.SUSPENDED],
        to_status=Member.Status.ACTIVE,
        kind=MembershipEvent.Kind.REINSTATED,
        actor=actor,
        reason=reason,
        now=now,
    )


@transaction.atomic
def record_departure(
    *, member: Member, actor: User, reason: str, now: datetime.datetime | None = None
) -> Member:
    """Record that a member left the cooperative (from any state but left)."""
    return _change_status(
        member=member,
        allowed_from=[Member.Status.APPLICANT, Member.Status.ACTIVE, Member.Status.SUSPENDED],
        to_status=Member.Status.LEFT,
        kind=MembershipEvent.Kind.LEFT,
        actor=actor,
        reason=reason,
        now=now,
    )


PROFILE_FIELDS = ["street", "postal_code", "city", "country", "phone", "preferred_language", "iban"]


@transaction.atomic
def update_profile(
    *,
    member: Member,
    street: str,
    postal_code: str,
    city: str,
    country: str,
    phone: str,
    preferred_language: str,
    iban: str,
) -> Member:
    """Update the contact and bank details a member may change themselves."""
    compact_iban, _niss, _fingerprint = _clean_identity(iban=iban, niss="", member_pk=member.pk)
    member = _lock_member(member)
    before = field_values(member, PROFILE_FIELDS)
    member.street = street.strip()
    member.postal_code = postal_code.strip()
    member.city = city.strip()
    member.country = country.upper()
    member.phone = phone.strip()
    member.preferred_language = preferred_language
    member.iban = compact_iban
    member.save(update_fields=PROFILE_FIELDS)
    changes = diff_fields(before, field_values(member, PROFILE_FIELDS))
    if changes:
        record_event(action="changed", obj=member, changes=changes)
    return member


@transaction.atomic
def set_national_number(*, member: Member, niss: str) -> Member:
    """Record or correct a member's national register number (staff only)."""
    _iban, compact_niss, niss_fingerprint = _clean_identity(
        iban=member.iban, niss=niss, member_pk=member.pk
    )
    member = _lock_member(member)
    changes = diff_fields({"niss": member.niss}, {"niss": compact_niss})
    member.niss = compact_niss
    member.niss_fingerprint = niss_fingerprint
    member.save(update_fields=["niss", "niss_fingerprint"])
    if changes:
        record_event(action="changed", obj=member, changes=changes)
    return member


REASON_MAX_LENGTH = 500


def reveal_national_number(*, member: Member, actor: User, reason: str = "") -> str:
    """Return a member's national register number in full and record who read it."""
    if not (actor.is_active and actor.has_perm("members.view_full_niss")):
        raise MembersError(
            _("You may not read national register numbers in full."), code="forbidden"
        )
    reason = reason.strip()
    if not reason:
        raise MembersError(
            _("Say why you read this national register number: the reason is recorded."),
            code="reason",
            field="reason",
        )
    if len(reason) > REASON_MAX_LENGTH:
        raise MembersError(
            _("Keep the reason under %(count)d characters.") % {"count": REASON_MAX_LENGTH},
            code="reason",
            field="reason",
        )
    member = Member.objects.get(pk=member.pk)
    if not member.niss:
        raise MembersError(_("This member has no national register number."), code="no_niss")
    record_event(
        action="viewed", obj=member, actor=actor, changes={"niss": [None, None]}, reason=reason
    )
    return member.niss


@transaction.atomic
def create_activity(
    *, owner: Member, name: str, description: str = "", co_members: Iterable[Member] = ()
) -> Activity:
    """Open a new Activity for a member, optionally shared with co-members."""
    name = name.strip()
    if not name:
        raise MembersError(_("Give the Activity a name."), code="name", field="name")
    if owner.status not in (Member.Status.ACTIVE,):
        raise MembersError(_("Only active members can open an Activity."), code="member_not_active")
    try:
        bounds.check_text_length(
            description.strip(), limit=bounds.DESCRIPTION_MAX_LENGTH, label=_("Description")
        )
    except bounds.OutOfBounds as error:
        raise MembersError(error.message, code="description", field="description") from None
    if Activity.objects.filter(owner=owner, name__iexact=name).exists():
        raise MembersError(
            _("You already have an Activity with this name."), code="duplicate", field="name"
        )
    activity = Activity.objects.create(owner=owner, name=name, description=description.strip())
    record_event(action="created", obj=activity)
    co_members = [member for member in co_members if member.pk != owner.pk]
    if co_members:
        activity.co_members.set(co_members)
    return activity


def post_ledger_entry(
    *,
    activity: Activity,
    kind: str,
    stage: str,
    amount: Decimal,
    reference: str,
    author: User | None,
    description: str = "",
    source: models.Model | None = None,
    now: datetime.datetime | None = None,
) -> LedgerEntry:
    """Append one entry to an Activity's ledger: the only way money is written to a ledger.

    ``amount`` is a signed Decimal with at most two decimals (income positive, costs
    negative); ``reference`` names the source document (an invoice number, a payslip…).
    """
    entry = ledger_entry(
        activity=activity,
        kind=kind,
        stage=stage,
        amount=amount,
        reference=reference,
        author=author,
        description=description,
        source=source,
        now=now,
    )
    entry.save()
    return entry


def post_ledger_entries(entries: list[LedgerEntry]) -> list[LedgerEntry]:
    """Append many entries made by ``ledger_entry`` (so checked alike) in one statement.

    For runs that write thousands at once (payroll): one ``COPY`` instead of an INSERT per
    entry; the ledger's triggers run for it as for any INSERT.
    """
    from contracts.bulk import copy_insert

    copy_insert(LedgerEntry, entries)
    return entries


def ledger_entry(
    *,
    activity: Activity,
    kind: str,
    stage: str,
    amount: Decimal,
    reference: str,
    author: User | None,
    description: str = "",
    source: models.Model | None = None,
    now: datetime.datetime | None = None,
) -> LedgerEntry:
    """Check a ledger entry as ``post_ledger_entry`` does and return it, not yet saved."""
    if isinstance(amount, bool) or not isinstance(amount, Decimal):
        raise MembersError(
            _("Ledger amounts must be exact decimals, not %(type)s.")
            % {"type": type(amount).__name__},
            code="amount_type",
            field="amount",
        )
    if not amount.is_finite() or not has_at_most_cents(amount):
        raise MembersError(
            _("Ledger amounts have at most two decimals."), code="amount_precision", field="amount"
        )
    if amount == 0:
        raise MembersError(_("A ledger entry cannot be zero."), code="amount_zero", field="amount")
    if abs(amount) >= Decimal("1e10"):
        raise MembersError(_("This amount is too large."), code="amount_range", field="amount")
    if kind not in LedgerEntryKind.values:
        raise MembersError(_("Unknown ledger entry kind."), code="kind", field="kind")
    if stage not in LedgerStage.values:
        raise MembersError(_("Unknown ledger stage."), code="stage", field="stage")
    reference = (reference or "").strip()
    if not reference:
        raise MembersError(
            _("A ledger entry must reference its source document."),
            code="reference",
            field="reference",
        )
    if len(reference) > LedgerEntry._meta.get_field("reference").max_length:
        raise MembersError(_("This reference is too long."), code="reference", field="reference")
    entry = LedgerEntry(
        activity=activity,
        kind=kind,
        stage=stage,
        amount=amount,
        reference=reference,
        description=description[:255],
        author=author,
        created_at=now or timezone.now(),
    )
    if source is not None:
        entry.source_type = ContentType.objects.get_for_model(source)
        entry.source_id = source.pk
    return entry


# API tokens -----------------------------------------------------------------------------------

API_TOKEN_PREFIX_LENGTH = 8
API_TOKEN_NAME_MAX_LENGTH = 100
# A token's last use is written at most this often, not on every request.
API_TOKEN_USE_RESOLUTION = datetime.timedelta(minutes=1)


def hash_api_key(key: str) -> str:
    """Return the SHA-256 (hex) under which an API key is stored."""
    return hashlib.sha256(key.encode()).hexdigest()


def api_token_lifetime_limit(user: User) -> int:
    """The longest lifetime, in days, a token of this user may have."""
    if has_elevated_powers(user):
        return settings.COOP_API_TOKEN_MAX_DAYS_ELEVATED
    return settings.COOP_API_TOKEN_MAX_DAYS


@transaction.atomic
def create_api_token(
    *,
    user: User,
    name: str,
    lifetime_days: int,
    totp_code: str = "",
    now: datetime.datetime | None = None,
) -> tuple[ApiToken, str]:
    """Create an API token and return it with its key, which is never stored nor shown again.

    Whoever has an authenticator app must enter its current code; staff and space managers
    must have one, so their tokens are always created after a second-factor check and live
    at most ``COOP_API_TOKEN_MAX_DAYS_ELEVATED`` days.
    """
    now = now or timezone.now()
    name = name.strip()
    if not name:
        raise MembersError(_("Give the token a name."), code="name", field="name")
    if len(name) > API_TOKEN_NAME_MAX_LENGTH:
        raise MembersError(_("A token name has at most 100 characters."), code="name", field="name")
    # Serialise concurrent creations by one user so the cap below holds.
    user = User.objects.select_for_update().get(pk=user.pk)
    max_days = api_token_lifetime_limit(user)
    if isinstance(lifetime_days, bool) or not 1 <= lifetime_days <= max_days:
        raise MembersError(
            _("A token lives between 1 and %(days)s days.") % {"days": max_days},
            code="lifetime",
            field="lifetime_days",
        )
    authenticator = totp_authenticator_of(user)
    if authenticator is None and has_elevated_powers(user):
        raise MembersError(
            _(
                "Staff and space managers need an authenticator app before they create a"
                " token: set one up under two-factor authentication first."
            ),
            code="second_factor_missing",
        )
    second_factor_verified = False
    if authenticator is not None:
        code = totp_code.strip()
        if not code:
            raise MembersError(
                _("Enter the current code of your authenticator app."),
                code="second_factor_required",
                field="totp_code",
            )
        if not authenticator.wrap().validate_code(code):
            raise MembersError(
                _("This authenticator code is not valid."),
                code="second_factor_invalid",
                field="totp_code",
            )
        second_factor_verified = True
    active = ApiToken.objects.filter(user=user, revoked_at__isnull=True, expires_at__gt=now)
    if active.count() >= settings.COOP_API_TOKENS_PER_USER:
        raise MembersError(
            _("You have %(count)s active tokens: revoke one before creating another.")
            % {"count": settings.COOP_API_TOKENS_PER_USER},
            code="too_many_tokens",
        )
    key = secrets.token_urlsafe(30)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=key[:API_TOKEN_PREFIX_LENGTH],
        key_hash=hash_api_key(key),
        created_at=now,
        expires_at=now + datetime.timedelta(days=lifetime_days),
        second_factor_verified=second_factor_verified,
    )
    record_event(
        action="created",
        obj=token,
        actor=user,
        changes={
            "name": token.name,
            "prefix": token.prefix,
            "expires_at": token.expires_at,
            "second_factor_verified": second_factor_verified,
        },
    )
    return token, key


@transaction.atomic
def revoke_api_token(
    *, user: User, token: ApiToken, now: datetime.datetime | None = None
) -> ApiToken:
    """Revoke one of the user's tokens at once; revoking twice changes nothing."""
    now = now or timezone.now()
    token = ApiToken.objects.select_for_update().get(pk=token.pk, user=user)
    if token.revoked_at is None:
        token.revoked_at = now
        token.save(update_fields=["revoked_at"])
        record_event(action="cancelled", obj=token, actor=user, reason="revoked")
    return token


def record_api_token_use(*, token: ApiToken, now: datetime.datetime) -> None:
    """Note that the token was used, at most once a minute (one conditional UPDATE)."""
    if token.last_used_at is not None and now - token.last_used_at < API_TOKEN_USE_RESOLUTION:
        return
    ApiToken.objects.filter(
        models.Q(last_used_at__isnull=True)
        | models.Q(last_used_at__lt=now - API_TOKEN_USE_RESOLUTION),
        pk=token.pk,
    ).update(last_used_at=now)
    token.last_used_at = now


def purge_api_tokens(*, now: datetime.datetime) -> int:
    """Delete tokens expired or revoked more than 90 days ago; return how many went."""
    horizon = now - datetime.timedelta(days=90)
    deleted, _by_model = ApiToken.objects.filter(
        models.Q(expires_at__lt=horizon) | models.Q(revoked_at__lt=horizon)
    ).delete()
    return deleted


# What anonymisation blanks on the member record: masked in earlier audit rows too.
PERSONAL_FIELDS = ["legal_name", "street", "postal_code", "city", "phone", "iban", "niss", "email"]


@transaction.atomic
def anonymise_member(
    *, member: Member, reason: str, actor: User, now: datetime.datetime | None = None
) -> Member:
    """Replace the personal data of a member who left, keeping what the law requires.

    Names, e-mail (a unique placeholder), phone, address, IBAN and national number are
    replaced, the account can no longer sign in, and earlier audit rows lose the person's name
    and values. Issued invoices (frozen snapshots) and payslips with their PDFs are accounting
    and payroll records kept for ten years: they stay. A member with open contracts, unpaid or
    pending invoices, undecided claims or bookings to come is refused. Anonymising twice
    changes nothing the second time.
    """
    from audit.privacy import expire_data_export, privacy_modules
    from audit.services import redact_person

    now = now or timezone.now()
    reason = reason.strip()
    if not reason:
        raise MembersError(_("Give a reason for this change."), code="reason", field="reason")
    member = Member.objects.select_for_update().select_related("user").get(pk=member.pk)
    if member.anonymised_at is not None:
        return member
    blockers = [
        message
        for module in privacy_modules()
        if hasattr(module, "anonymisation_blockers")
        for message in module.anonymisation_blockers(member)
    ]
    if blockers:
        raise MembersError(
            _("%(member)s cannot be anonymised: %(reasons)s")
            % {"member": member.legal_name, "reasons": " ".join(blockers)},
            code="anonymisation_blocked",
        )
    placeholder = f"member-{member.pk}"
    for module in privacy_modules():
        if hasattr(module, "anonymise_member_data"):
            module.anonymise_member_data(member=member, placeholder=placeholder, now=now)
    for export in member.user.data_exports.exclude(status="expired"):
        expire_data_export(export=export)
    redact_person(
        user=member.user,
        placeholder=placeholder,
        objects=[("members.member", member.pk), ("members.user", member.user_id)],
        fields=PERSONAL_FIELDS,
    )
    _record_event(
        member=member,
        kind=MembershipEvent.Kind.ANONYMISED,
        from_status=member.status,
        actor=actor,
        reason=reason,
        now=now,
    )
    record_event(action="anonymised", obj=member, actor=actor, reason=reason)
    return member
