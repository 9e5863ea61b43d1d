"""Freeze quotes in the database itself.

- A quote's number, once taken, never changes, and a numbered quote is never deleted.
- A sent version keeps its content: only the client's answer (and the PDF's hash, once, when
  the PDF is rendered) may still be written; it is never deleted, nor are its lines changed.
- An accepted version changes no more at all, nor do its lines.
- Quote events are append-only.
"""

from django.db import migrations

CONTENT_COLUMNS = [
    "quote_id",
    "version",
    "title",
    "description",
    "valid_until",
    "payment_terms_days",
    "deposit_percent",
    "schedule",
    "work_start",
    "work_end",
    "total_excl_vat",
    "total_vat",
    "total_incl_vat",
    "snapshot",
    "sent_at",
    "data_sha256",
    "created_at",
]

CONTENT_CHANGED = " OR ".join(
    f"NEW.{column} IS DISTINCT FROM OLD.{column}" for column in CONTENT_COLUMNS
)

CREATE = f"""
CREATE FUNCTION quotes_quote_guard() RETURNS trigger AS $$
BEGIN
    IF OLD.sequence_number IS NULL THEN
        RETURN COALESCE(NEW, OLD);
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'quote %-% cannot be deleted', OLD.series, OLD.sequence_number
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.series IS DISTINCT FROM OLD.series
        OR NEW.sequence_number IS DISTINCT FROM OLD.sequence_number
        OR NEW.activity_id IS DISTINCT FROM OLD.activity_id
        OR NEW.client_id IS DISTINCT FROM OLD.client_id THEN
        RAISE EXCEPTION 'the number, Activity and client of quote %-% cannot change',
            OLD.series, OLD.sequence_number
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER quotes_quote_frozen
    BEFORE UPDATE OR DELETE ON quotes_quote
    FOR EACH ROW EXECUTE FUNCTION quotes_quote_guard();

CREATE FUNCTION quotes_quoteversion_guard() RETURNS trigger AS $$
BEGIN
    IF OLD.accepted_at IS NOT NULL THEN
        RAISE EXCEPTION 'accepted quote version % cannot be changed or deleted', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF OLD.sent_at IS NULL THEN
        RETURN COALESCE(NEW, OLD);
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'sent quote version % cannot be deleted', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF {CONTENT_CHANGED}
        OR (OLD.pdf_sha256 <> '' AND NEW.pdf_sha256 IS DISTINCT FROM OLD.pdf_sha256) THEN
        RAISE EXCEPTION 'the content of sent quote version % cannot be changed', OLD.id
            USING ERRCODE = 'integrity_constraint_violation',
                  HINT = 'Make a new version instead.';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER quotes_quoteversion_frozen
    BEFORE UPDATE OR DELETE ON quotes_quoteversion
    FOR EACH ROW EXECUTE FUNCTION quotes_quoteversion_guard();

CREATE FUNCTION quotes_quoteline_guard() RETURNS trigger AS $$
DECLARE
    version_sent timestamptz;
BEGIN
    SELECT sent_at INTO version_sent FROM quotes_quoteversion
        WHERE id = COALESCE(NEW.version_id, OLD.version_id);
    IF version_sent IS NOT NULL THEN
        RAISE EXCEPTION 'lines of sent quote version % cannot be changed',
            COALESCE(NEW.version_id, OLD.version_id)
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.version_id IS DISTINCT FROM OLD.version_id THEN
        SELECT sent_at INTO version_sent FROM quotes_quoteversion WHERE id = OLD.version_id;
        IF version_sent IS NOT NULL THEN
            RAISE EXCEPTION 'lines of sent quote version % cannot be changed', OLD.version_id
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
    END IF;
    RETURN COALESCE(NEW, OLD);
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER quotes_quoteline_frozen
    BEFORE INSERT OR UPDATE OR DELETE ON quotes_quoteline
    FOR EACH ROW EXECUTE FUNCTION quotes_quoteline_guard();

CREATE FUNCTION quotes_quoteevent_guard() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'quote events are append-only'
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER quotes_quoteevent_append_only
    BEFORE UPDATE ON quotes_quoteevent
    FOR EACH ROW EXECUTE FUNCTION quotes_quoteevent_guard();
"""

DROP = """
DROP TRIGGER IF EXISTS quotes_quoteevent_append_only ON quotes_quoteevent;
DROP FUNCTION IF EXISTS quotes_quoteevent_guard();
DROP TRIGGER IF EXISTS quotes_quoteline_frozen ON quotes_quoteline;
DROP FUNCTION IF EXISTS quotes_quoteline_guard();
DROP TRIGGER IF EXISTS quotes_quoteversion_frozen ON quotes_quoteversion;
DROP FUNCTION IF EXISTS quotes_quoteversion_guard();
DROP TRIGGER IF EXISTS quotes_quote_frozen ON quotes_quote;
DROP FUNCTION IF EXISTS quotes_quote_guard();
"""


class Migration(migrations.Migration):
    dependencies = [("quotes", "0001_initial")]

    operations = [migrations.RunSQL(CREATE, DROP)]
