"""Make ledger entries append-only in the database itself, not only in the code."""

from django.db import migrations

CREATE = """
CREATE FUNCTION members_ledgerentry_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'ledger entries are append-only: % refused on entry %', TG_OP, OLD.id
        USING ERRCODE = 'integrity_constraint_violation',
              HINT = 'Post a correcting entry instead.';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER members_ledgerentry_append_only
    BEFORE UPDATE OR DELETE ON members_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION members_ledgerentry_refuse_change();
"""

DROP = """
DROP TRIGGER IF EXISTS members_ledgerentry_append_only ON members_ledgerentry;
DROP FUNCTION IF EXISTS members_ledgerentry_refuse_change();
"""


class Migration(migrations.Migration):
    dependencies = [("members", "0001_initial")]

    operations = [migrations.RunSQL(CREATE, DROP)]
