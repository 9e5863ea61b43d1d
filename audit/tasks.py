"""Background work of the audit app: members' data exports."""

from celery import shared_task
from django.utils import timezone

from audit import privacy
from audit.models import DataExport


@shared_task(bind=True, max_retries=privacy.MAX_EXPORT_ATTEMPTS)
def build_data_export_task(self, export_pk: int) -> None:
    """Build a member's data export (does nothing if it is no longer pending)."""
    export = DataExport.objects.filter(pk=export_pk).first()
    if export is None:
        return
    try:
        privacy.build_data_export(export=export)
    except Exception as error:
        if self.request.retries >= self.max_retries:
            privacy.fail_data_export(export=export, error=repr(error))
            raise
        raise self.retry(exc=error, countdown=30 * 2**self.request.retries) from error


@shared_task
def data_export_housekeeping_task() -> None:
    """Delete expired exports' files and queue again the exports whose task was lost."""
    now = timezone.now()
    privacy.expire_data_exports(now=now)
    for export_pk in privacy.stale_pending_exports(now=now).values_list("pk", flat=True):
        build_data_export_task.delay(export_pk)
