"""Make the audit trail append-only in the database itself, as the ledger is.

One narrow exception: anonymising a member sets ``audit.redaction`` for its own transaction
(``SET LOCAL``) and may then rewrite the actor label, the object description and the changed
values of earlier rows; every other column, and every DELETE, is refused.
"""

from django.db import migrations

CREATE = """
CREATE FUNCTION audit_auditevent_refuse_change() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE'
        AND current_setting('audit.redaction', true) = 'on'
        AND NEW.id = OLD.id
        AND NEW.occurred_at = OLD.occurred_at
        AND NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id
        AND NEW.action = OLD.action
        AND NEW.object_type = OLD.object_type
        AND NEW.object_pk = OLD.object_pk
        AND NEW.reason = OLD.reason
        AND NEW.ip IS NOT DISTINCT FROM OLD.ip
        AND NEW.user_agent = OLD.user_agent
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the audit trail is append-only: % refused on event %', TG_OP, OLD.id
        USING ERRCODE = 'integrity_constraint_violation',
              HINT = 'Record a new event instead.';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_auditevent_append_only
    BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_auditevent_refuse_change();
"""

DROP = """
DROP TRIGGER IF EXISTS audit_auditevent_append_only ON audit_auditevent;
DROP FUNCTION IF EXISTS audit_auditevent_refuse_change();
"""


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_audit_trail_and_data_exports")]

    operations = [migrations.RunSQL(CREATE, DROP)]
