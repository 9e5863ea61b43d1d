"""Freeze issued invoices and credit notes in the database itself (VAT Code: never edited).

Once an invoice has a number, only its payment status and the formal-notice flag may change;
it can no longer be deleted, and its lines can no longer be added, changed or removed.
"""

from django.db import migrations

FROZEN_COLUMNS = [
    "kind",
    "activity_id",
    "client_id",
    "credited_invoice_id",
    "series",
    "sequence_number",
    "number",
    "issue_date",
    "due_date",
    "buyer_reference",
    "notes",
    "language",
    "structured_communication",
    "total_excl_vat",
    "total_vat",
    "total_incl_vat",
    "snapshot",
    "created_by_id",
    "created_at",
    "issued_at",
    "issued_by_id",
]

CHANGED = " OR ".join(f"NEW.{column} IS DISTINCT FROM OLD.{column}" for column in FROZEN_COLUMNS)

CREATE = f"""
CREATE FUNCTION invoicing_invoice_guard() RETURNS trigger AS $$
BEGIN
    IF OLD.number IS NULL THEN
        RETURN COALESCE(NEW, OLD);
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'issued invoice % cannot be deleted', OLD.number
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF {CHANGED} OR NEW.status IN ('draft', 'pending_review', 'rejected') THEN
        RAISE EXCEPTION 'issued invoice % cannot be changed', OLD.number
            USING ERRCODE = 'integrity_constraint_violation',
                  HINT = 'Issue a credit note instead.';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER invoicing_invoice_frozen
    BEFORE UPDATE OR DELETE ON invoicing_invoice
    FOR EACH ROW EXECUTE FUNCTION invoicing_invoice_guard();

CREATE FUNCTION invoicing_invoiceline_guard() RETURNS trigger AS $$
DECLARE
    invoice_number text;
BEGIN
    SELECT number INTO invoice_number FROM invoicing_invoice
        WHERE id = COALESCE(NEW.invoice_id, OLD.invoice_id);
    IF invoice_number IS NOT NULL THEN
        RAISE EXCEPTION 'lines of issued invoice % cannot be changed', invoice_number
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.invoice_id IS DISTINCT FROM OLD.invoice_id THEN
        SELECT number INTO invoice_number FROM invoicing_invoice WHERE id = OLD.invoice_id;
        IF invoice_number IS NOT NULL THEN
            RAISE EXCEPTION 'lines of issued invoice % cannot be changed', invoice_number
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
    END IF;
    RETURN COALESCE(NEW, OLD);
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER invoicing_invoiceline_frozen
    BEFORE INSERT OR UPDATE OR DELETE ON invoicing_invoiceline
    FOR EACH ROW EXECUTE FUNCTION invoicing_invoiceline_guard();
"""

DROP = """
DROP TRIGGER IF EXISTS invoicing_invoiceline_frozen ON invoicing_invoiceline;
DROP FUNCTION IF EXISTS invoicing_invoiceline_guard();
DROP TRIGGER IF EXISTS invoicing_invoice_frozen ON invoicing_invoice;
DROP FUNCTION IF EXISTS invoicing_invoice_guard();
"""


class Migration(migrations.Migration):
    dependencies = [("invoicing", "0001_initial")]

    operations = [migrations.RunSQL(CREATE, DROP)]
