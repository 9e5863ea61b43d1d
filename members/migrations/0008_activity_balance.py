"""One balance row per Activity, kept by a trigger in the same transaction as its ledger entries.

Pages showed each Activity's balances as ``SUM(amount)`` over its ledger: at SMart's size that is
up to 20,000 rows per Activity on every dashboard. The ledger is append-only (0002), so an
``AFTER INSERT`` statement-level trigger that adds each statement's new rows (its transition
table), grouped per Activity, to ``members_activitybalance`` keeps the totals exact. Rows are
upserted in Activity order, so two transactions touching the same Activities lock their rows in
the same order and cannot deadlock each other. ``manage.py check_balances`` verifies the rows
against the ledger and ``--rebuild`` recomputes them (after a bulk load with triggers off).
"""

from decimal import Decimal

import django.db.models.deletion
from django.db import migrations, models

CREATE = """
CREATE FUNCTION members_ledgerentry_add_to_balance() RETURNS trigger AS $$
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

CREATE TRIGGER members_ledgerentry_balance
    AFTER INSERT ON members_ledgerentry
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION members_ledgerentry_add_to_balance();

CREATE FUNCTION members_ledgerentry_clear_balances() RETURNS trigger AS $$
BEGIN
    DELETE FROM members_activitybalance;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER members_ledgerentry_truncate_balances
    AFTER TRUNCATE ON members_ledgerentry
    FOR EACH STATEMENT EXECUTE FUNCTION members_ledgerentry_clear_balances();

-- CREATE TRIGGER above took a lock that waits for ledger inserts under way and holds off new
-- ones until this migration commits: the backfill below sees every entry exactly once.
INSERT INTO members_activitybalance (activity_id, available, planned, entry_count)
SELECT activity_id,
       COALESCE(SUM(amount) FILTER (WHERE stage = 'available'), 0),
       COALESCE(SUM(amount) FILTER (WHERE stage = 'planned'), 0),
       COUNT(*)
  FROM members_ledgerentry
 GROUP BY activity_id;
"""

DROP = """
DROP TRIGGER IF EXISTS members_ledgerentry_truncate_balances ON members_ledgerentry;
DROP FUNCTION IF EXISTS members_ledgerentry_clear_balances();
DROP TRIGGER IF EXISTS members_ledgerentry_balance ON members_ledgerentry;
DROP FUNCTION IF EXISTS members_ledgerentry_add_to_balance();
"""


class Migration(migrations.Migration):
    dependencies = [("members", "0007_name_search_trigram_indexes")]

    operations = [
        migrations.CreateModel(
            name="ActivityBalance",
            fields=[
                (
                    "activity",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="balance",
                        serialize=False,
                        to="members.activity",
                        verbose_name="Activity",
                    ),
                ),
                (
                    "available",
                    models.DecimalField(
                        decimal_places=2,
                        default=Decimal("0.00"),
                        max_digits=16,
                        verbose_name="available",
                    ),
                ),
                (
                    "planned",
                    models.DecimalField(
                        decimal_places=2,
                        default=Decimal("0.00"),
                        max_digits=16,
                        verbose_name="planned",
                    ),
                ),
                (
                    "entry_count",
                    models.PositiveBigIntegerField(default=0, verbose_name="ledger entries"),
                ),
            ],
            options={
                "verbose_name": "Activity balance",
                "verbose_name_plural": "Activity balances",
            },
        ),
        migrations.RunSQL(CREATE, DROP),
    ]
