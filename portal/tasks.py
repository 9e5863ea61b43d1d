"""Background work of the portal: the e-mails it sends."""

from celery import shared_task
from django.utils import timezone

from portal import services
from portal.models import PortalQuestion


@shared_task(autoretry_for=(OSError,), retry_backoff=60, max_retries=5)
def send_sign_in_link_task(email: str) -> bool:
    """E-mail a sign-in link to the address, if it has documents."""
    return services.send_sign_in_link(email=email)


@shared_task(autoretry_for=(OSError,), retry_backoff=60, max_retries=8)
def send_question_email_task(question_pk: int) -> None:
    """E-mail a client's question to the member, once."""
    question = PortalQuestion.objects.filter(pk=question_pk).first()
    if question is not None:
        services.send_question_email(question=question)


@shared_task
def purge_expired_tokens_task() -> int:
    """Delete the portal links expired a month ago; return how many."""
    return services.purge_expired_tokens(now=timezone.now())
