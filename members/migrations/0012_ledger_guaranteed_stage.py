"""A third ledger stage, ``guaranteed``: budget a client's confirmed order promises the Activity.

The balance row gets a ``guaranteed`` column and the trigger of 0008 adds guaranteed entries to
it as it adds planned and available ones. No entry of this stage exists before this migration,
so there is nothing to backfill (``manage.py check_balances`` verifies the three columns).
"""

from decimal import Decimal

from django.db import migrations, models

FUNCTION = """
CREATE OR REPLACE FUNCTION members_ledgerentry_add_to_balance() RETURNS trigger AS $$
BEGIN
    INSERT INTO members_activitybalance AS balance
           (activity_id, available, planned, guaranteed, entry_count)
    SELECT activity_id,
           COALESCE(SUM(amount) FILTER (WHERE stage = 'available'), 0),
           COALESCE(SUM(amount) FILTER (WHERE stage = 'planned'), 0),
           COALESCE(SUM(amount) FILTER (WHERE stage = 'guaranteed'), 0),
           COUNT(*)
      FROM new_rows
     GROUP BY activity_id
     ORDER BY activity_id
    ON CONFLICT (activity_id) DO UPDATE
       SET available = balance.available + EXCLUDED.available,
           planned = balance.planned + EXCLUDED.planned,
           guaranteed = balance.guaranteed + EXCLUDED.guaranteed,
           entry_count = balance.entry_count + EXCLUDED.entry_count;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""

PREVIOUS_FUNCTION = """
CREATE OR REPLACE FUNCTION members_ledgerentry_add_to_balance() RETURNS trigger AS $$
BEGIN
    INSERT INTO members_activitybalance AS balance (activity_id, available, planned, entry_count)
    SELECT activity_id,
           COALESCE(SUM(amount) FILTER (WHERE stage = 'available'), 0),
           COALESCE(SUM(amount) FILTER (WHERE stage = 'planned'), 0),
           COUNT(*)
      FROM new_rows
     GROUP BY activity_id
     ORDER BY activity_id
    ON CONFLICT (activity_id) DO UPDATE
       SET available = balance.available + EXCLUDED.available,
           planned = balance.planned + EXCLUDED.planned,
           entry_count = balance.entry_count + EXCLUDED.entry_count;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""


class Migration(migrations.Migration):
    dependencies = [("members", "0011_admin_search_indexes")]

    operations = [
        migrations.AddField(
            model_name="activitybalance",
            name="guaranteed",
            field=models.DecimalField(
                decimal_places=2, default=Decimal("0.00"), max_digits=16, verbose_name="guaranteed"
            ),
        ),
        migrations.AlterField(
            model_name="ledgerentry",
            name="stage",
            field=models.CharField(
                choices=[
                    ("guaranteed", "Guaranteed"),
                    ("planned", "Planned"),
                    ("available", "Available"),
                ],
                max_length=16,
                verbose_name="stage",
            ),
        ),
        migrations.RunSQL(FUNCTION, PREVIOUS_FUNCTION),
    ]
