"""Freeze the purchase order, the invoicing period and the discounts and charges once issued.

A trigger of its own guards the new invoice columns, so the main guard of migration 0002 (and
its later versions) stays as it is; the discounts and charges table gets the same guard as
invoice lines.
"""

from django.db import migrations

COLUMNS = ["order_reference", "period_start", "period_end"]
CHANGED = " OR ".join(f"NEW.{column} IS DISTINCT FROM OLD.{column}" for column in COLUMNS)

CREATE = f"""
CREATE FUNCTION invoicing_invoice_references_guard() RETURNS trigger AS $$
BEGIN
    IF OLD.number IS NOT NULL AND ({CHANGED}) THEN
        RAISE EXCEPTION 'issued invoice % cannot be changed', OLD.number
            USING ERRCODE = 'integrity_constraint_violation',
                  HINT = 'Issue a credit note instead.';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER invoicing_invoice_references_frozen
    BEFORE UPDATE ON invoicing_invoice
    FOR EACH ROW EXECUTE FUNCTION invoicing_invoice_references_guard();

CREATE FUNCTION invoicing_invoiceallowancecharge_guard() RETURNS trigger AS $$
DECLARE
    invoice_number text;
BEGIN
    SELECT number INTO invoice_number FROM invoicing_invoice
        WHERE id = COALESCE(NEW.invoice_id, OLD.invoice_id);
    IF invoice_number IS NULL AND TG_OP = 'UPDATE' THEN
        SELECT number INTO invoice_number FROM invoicing_invoice WHERE id = OLD.invoice_id;
    END IF;
    IF invoice_number IS NOT NULL THEN
        RAISE EXCEPTION 'discounts and charges of issued invoice % cannot be changed',
            invoice_number
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN COALESCE(NEW, OLD);
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER invoicing_invoiceallowancecharge_frozen
    BEFORE INSERT OR UPDATE OR DELETE ON invoicing_invoiceallowancecharge
    FOR EACH ROW EXECUTE FUNCTION invoicing_invoiceallowancecharge_guard();
"""

DROP = """
DROP TRIGGER IF EXISTS invoicing_invoiceallowancecharge_frozen ON invoicing_invoiceallowancecharge;
DROP FUNCTION IF EXISTS invoicing_invoiceallowancecharge_guard();
DROP TRIGGER IF EXISTS invoicing_invoice_references_frozen ON invoicing_invoice;
DROP FUNCTION IF EXISTS invoicing_invoice_references_guard();
"""


class Migration(migrations.Migration):
    dependencies = [("invoicing", "0012_allowances_charges_order_reference_period")]

    operations = [migrations.RunSQL(CREATE, DROP)]
