"""Freeze the date of supply of issued invoices too."""

from importlib import import_module

from django.db import migrations

frozen = import_module("invoicing.migrations.0002_issued_invoices_are_frozen")

COLUMNS = [*frozen.FROZEN_COLUMNS, "supply_date"]
CHANGED = " OR ".join(f"NEW.{column} IS DISTINCT FROM OLD.{column}" for column in COLUMNS)

REPLACE = f"""
CREATE OR REPLACE FUNCTION invoicing_invoice_guard() RETURNS trigger AS $$
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
"""

# Going back restores the function as migration 0002 created it.
RESTORE = frozen.CREATE.split("CREATE TRIGGER")[0].replace(
    "CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1
)


class Migration(migrations.Migration):
    dependencies = [("invoicing", "0003_invoice_supply_date")]

    operations = [migrations.RunSQL(REPLACE, RESTORE)]
