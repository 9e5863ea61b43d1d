from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Audit trail and personal data")

    def ready(self) -> None:
        from django.contrib import admin
        from django.contrib.admin.models import LogEntry
        from django.contrib.auth.signals import user_logged_in
        from django.db.models.signals import post_save

        from audit import admin as audit_admin
        from audit import signals

        # The trail is a cross-cutting record, so it listens rather than asking every app's
        # admin to call it: the admin's log and sign-ins both reach it.
        post_save.connect(
            audit_admin.record_admin_log_entry, sender=LogEntry, dispatch_uid="audit_admin_log"
        )
        user_logged_in.connect(signals.record_sign_in, dispatch_uid="audit_sign_in")
        admin.site.add_action(audit_admin.delete_selected, "delete_selected")
