"""Every write of the portal: sign-in links, portal sessions' tokens, questions."""

import datetime
import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audit.models import AuditAction
from audit.services import record_event
from coop.throttling import count_hit
from invoicing.models import Invoice
from members.models import User
from portal import selectors
from portal.errors import PortalError
from portal.models import QUESTION_MAX_LENGTH, PortalAccount, PortalQuestion, PortalToken

SIGN_IN_LINK_LIFETIME = datetime.timedelta(minutes=30)
# An invoice e-mail's link outlives the payment terms (at most 120 days) and the reminders.
EMAIL_LINK_LIFETIME = datetime.timedelta(days=180)
# How long a portal session lasts once opened, whatever the client does.
SESSION_LIFETIME = datetime.timedelta(hours=8)
# Sign-in links asked for: per address (whoever asks) and per IP address, per hour.
LINKS_PER_ADDRESS = 5
LINKS_PER_IP = 20
# Questions: per portal address, per hour.
QUESTIONS_PER_HOUR = 10
# Password sign-ins tried per address and per IP address in an hour, as other sign-ins.
PASSWORD_TRIES_PER_ADDRESS = 10
PASSWORD_TRIES_PER_IP = 30
PASSWORD_SESSION = "password"  # noqa: S105 (how a session was opened, no secret)
# A hash to check against when the address has no account: the answer takes as long.
_NO_ACCOUNT_HASH = make_password(None)
HOUR = 3600


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _create_token(*, kind: str, email: str, lifetime: datetime.timedelta, now) -> str:
    token = secrets.token_urlsafe(32)
    PortalToken.objects.create(
        kind=kind,
        email=selectors.normalise_email(email),
        token_hash=hash_token(token),
        created_at=now,
        expires_at=now + lifetime,
    )
    return token


def link_url(token: str) -> str:
    return settings.SITE_URL + reverse("portal:sign_in", kwargs={"token": token})


def _limit(key: str, *, limit: int, now) -> None:
    hits, _window_end = count_hit(key, now=now, seconds=HOUR)
    if hits > limit:
        raise PortalError(_("Too many requests. Please try again in an hour."), code="throttled")


def request_sign_in_link(*, email: str, ip_address: str | None, now: datetime.datetime) -> None:
    """Ask for a sign-in link for ``email``; it leaves only if the address has documents.

    The answer does not depend on whether the address is a client's: the check and the
    e-mail happen in a task, after the request has answered. Counted per address (hashed) and
    per IP address, each for an hour; over either limit raises ``PortalError``.
    """
    email = selectors.normalise_email(email)
    _limit(f"portal-link-ip:{ip_address or '-'}", limit=LINKS_PER_IP, now=now)
    _limit(f"portal-link-address:{hash_token(email)}", limit=LINKS_PER_ADDRESS, now=now)

    def enqueue() -> None:
        from portal.tasks import send_sign_in_link_task

        send_sign_in_link_task.delay(email)

    transaction.on_commit(enqueue)


@transaction.atomic
def send_sign_in_link(*, email: str, now: datetime.datetime | None = None) -> bool:
    """E-mail a single-use sign-in link to the address if it has documents; return whether."""
    now = now or timezone.now()
    email = selectors.normalise_email(email)
    if not selectors.has_documents(email):
        return False
    token = _create_token(
        kind=PortalToken.Kind.SIGN_IN, email=email, lifetime=SIGN_IN_LINK_LIFETIME, now=now
    )
    with translation.override(selectors.client_language(email)):
        context = {"link": link_url(token), "minutes": 30}
        subject = render_to_string("emails/portal_sign_in_subject.txt", context).strip()
        body = render_to_string("emails/portal_sign_in.txt", context)
    EmailMessage(subject=subject, body=body, to=[email]).send()
    return True


def email_link(invoice: Invoice, recipient: str, *, now: datetime.datetime | None = None) -> str:
    """Return the "view online" link of an invoice e-mail to ``recipient``, or "".

    Only the client's own address gets one: a copy sent to another address (an accountant)
    must not open the client's portal.
    """
    recipient = selectors.normalise_email(recipient)
    if not recipient or recipient != selectors.normalise_email(invoice.client.email):
        return ""
    token = _create_token(
        kind=PortalToken.Kind.EMAIL,
        email=recipient,
        lifetime=EMAIL_LINK_LIFETIME,
        now=now or timezone.now(),
    )
    return link_url(token)


def create_demo_link(*, email: str, now: datetime.datetime, days: int = 365) -> str:
    """A long-lived e-mail link for the demo's client (the demo prints it)."""
    token = _create_token(
        kind=PortalToken.Kind.EMAIL,
        email=email,
        lifetime=datetime.timedelta(days=days),
        now=now,
    )
    return link_url(token)


INVALID_LINK = "invalid_link"
# Links expired this long ago are deleted (an audit row keeps each sign-in).
PURGE_AFTER = datetime.timedelta(days=30)


def purge_expired_tokens(*, now: datetime.datetime) -> int:
    """Delete the links expired more than ``PURGE_AFTER`` ago; return how many went."""
    deleted, _by_model = PortalToken.objects.filter(expires_at__lt=now - PURGE_AFTER).delete()
    return deleted


@transaction.atomic
def use_token(*, token: str, now: datetime.datetime) -> PortalToken:
    """Use a link's token to sign in; return it, or raise ``PortalError`` when it is unknown,
    expired, revoked or (a sign-in link) already used."""
    link = (
        PortalToken.objects.select_for_update().filter(token_hash=hash_token(token or "")).first()
    )
    if link is None or not link.is_usable(now):
        raise PortalError(
            _("This link is no longer valid. Ask for a new one below."), code=INVALID_LINK
        )
    if link.used_at is None:
        link.used_at = now
        link.save(update_fields=["used_at"])
    record_event(
        action=AuditAction.SIGNED_IN,
        obj=link,
        object_repr=f"portal {link.email}",
        reason=link.kind,
    )
    return link


def token_identity(token: str, *, now: datetime.datetime) -> selectors.PortalIdentity | None:
    """The identity of an e-mail link's token for the API (``Authorization: Portal <token>``),
    or None. Sign-in links are for the browser only."""
    link = PortalToken.objects.filter(
        token_hash=hash_token(token), kind=PortalToken.Kind.EMAIL
    ).first()
    if link is None or not link.is_usable(now):
        return None
    return selectors.PortalIdentity(email=link.email)


@transaction.atomic
def ask_question(
    *,
    identity: selectors.PortalIdentity,
    invoice: Invoice,
    message: str,
    now: datetime.datetime,
) -> PortalQuestion:
    """Record the client's question on one of its documents and e-mail it to the member."""
    message = message.strip()
    if not message:
        raise PortalError(_("Write your question."), field="message")
    if len(message) > QUESTION_MAX_LENGTH:
        raise PortalError(
            _("Keep your question under %(limit)s characters.") % {"limit": QUESTION_MAX_LENGTH},
            field="message",
        )
    _limit(f"portal-question:{hash_token(identity.email)}", limit=QUESTIONS_PER_HOUR, now=now)
    question = PortalQuestion.objects.create(
        invoice=invoice, email=identity.email, message=message, asked_at=now
    )
    record_event(action=AuditAction.CREATED, obj=question, object_repr=f"question {invoice}")

    def enqueue() -> None:
        from portal.tasks import send_question_email_task

        send_question_email_task.delay(question.pk)

    transaction.on_commit(enqueue)
    return question


@transaction.atomic
def send_question_email(*, question: PortalQuestion, now: datetime.datetime | None = None) -> bool:
    """E-mail the question to the member who owns the document's Activity, once."""
    question = (
        PortalQuestion.objects.select_for_update()
        .select_related("invoice__activity__owner__user")
        .get(pk=question.pk)
    )
    if question.emailed_at is not None:
        return False
    invoice = question.invoice
    member = invoice.activity.owner
    with translation.override(member.preferred_language):
        context = {
            "question": question,
            "invoice": invoice,
            "link": settings.SITE_URL
            + reverse("invoicing:invoice_detail", kwargs={"pk": invoice.pk}),
        }
        subject = render_to_string("emails/portal_question_subject.txt", context).strip()
        body = render_to_string("emails/portal_question.txt", context)
    EmailMessage(
        subject=subject, body=body, to=[member.user.email], reply_to=[question.email]
    ).send()
    question.emailed_at = now or timezone.now()
    question.save(update_fields=["emailed_at"])
    return True


@transaction.atomic
def mark_question_answered(
    *, user: User, question: PortalQuestion, now: datetime.datetime
) -> PortalQuestion:
    """Mark a client's question answered (the member answers by e-mail or phone)."""
    question = PortalQuestion.objects.select_for_update().get(pk=question.pk)
    if question.answered_at is not None:
        return question
    question.answered_at = now
    question.answered_by = user
    question.save(update_fields=["answered_at", "answered_by"])
    record_event(action=AuditAction.CHANGED, obj=question, reason="answered", actor=user)
    return question


@transaction.atomic
def set_password(
    *, identity: selectors.PortalIdentity, opened_by: str, password: str, now: datetime.datetime
) -> PortalAccount:
    """Give the signed-in address a password (or a new one): only from a session opened by an
    e-mail link, which is also how a forgotten password is reset."""
    if opened_by == PASSWORD_SESSION:
        raise PortalError(
            _(
                "To set or change your password, sign in with an e-mail link first: it proves "
                "the address is yours."
            ),
            code="link_session_required",
        )
    email = identity.email.lower()
    try:
        validate_password(password, user=PortalAccount(email=email))
    except ValidationError as error:
        raise PortalError(" ".join(error.messages), code="password", field="password1") from None
    account, created = PortalAccount.objects.select_for_update().get_or_create(
        email=email, defaults={"password": make_password(password), "created_at": now}
    )
    if not created:
        account.password = make_password(password)
    account.password_set_at = now
    account.save()
    record_event(
        action=AuditAction.CREATED if created else AuditAction.CHANGED,
        obj=account,
        object_repr=f"portal {email}",
        reason="password set" if created else "password changed",
    )
    return account


def sign_in_with_password(
    *, email: str, password: str, ip_address: str | None, now: datetime.datetime
) -> str:
    """Check an address and its password; return the address to open its portal session, or
    raise ``PortalError`` (the same message whether the address or the password is wrong).
    Tries are counted per address and per IP address, and every outcome is audited."""
    email = (email or "").strip().lower()
    _limit(f"portal-password-ip:{ip_address or '-'}", limit=PASSWORD_TRIES_PER_IP, now=now)
    _limit(f"portal-password:{hash_token(email)}", limit=PASSWORD_TRIES_PER_ADDRESS, now=now)
    account = PortalAccount.objects.filter(email=email).first()
    if account is None:
        check_password(password, _NO_ACCOUNT_HASH)
    if account is None or not check_password(password, account.password):
        record_event(
            action=AuditAction.REJECTED,
            object_type="portal.portalaccount",
            object_pk=account.pk if account else "",
            object_repr=f"portal {email}"[:200],
            reason="password sign-in refused",
        )
        raise PortalError(
            _(
                "This e-mail address and password do not match. Forgot your password? Ask for "
                "a sign-in link, then set a new one."
            ),
            code="wrong_password",
        )
    record_event(
        action=AuditAction.SIGNED_IN,
        obj=account,
        object_repr=f"portal {email}",
        reason=PASSWORD_SESSION,
    )
    return account.email
