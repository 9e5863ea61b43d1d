"""Check the per-Activity balance rows against the ledger, and recompute them.

``members_activitybalance`` is kept by a database trigger (migration 0008); these set-based
queries verify it and repair it after a bulk load that bypassed triggers.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction

# Every Activity that has entries or a balance row, once, with both sides and whether they
# agree. One statement: the ledger and the balance rows are read in the same snapshot.
COMPARE = """
SELECT COALESCE(ledger.activity_id, balance.activity_id) AS activity_id,
       ledger.available, ledger.planned, ledger.guaranteed, COALESCE(ledger.entry_count, 0),
       balance.available, balance.planned, balance.guaranteed, balance.entry_count,
       (COALESCE(ledger.available, 0), COALESCE(ledger.planned, 0),
        COALESCE(ledger.guaranteed, 0), COALESCE(ledger.entry_count, 0))
       IS NOT DISTINCT FROM
       (balance.available, balance.planned, balance.guaranteed, balance.entry_count) AS agrees
  FROM (
SELECT activity_id,
       COALESCE(SUM(amount) FILTER (WHERE stage = 'available'), 0.00) AS available,
       COALESCE(SUM(amount) FILTER (WHERE stage = 'planned'), 0.00) AS planned,
       COALESCE(SUM(amount) FILTER (WHERE stage = 'guaranteed'), 0.00) AS guaranteed,
       COUNT(*) AS entry_count
  FROM members_ledgerentry
 GROUP BY activity_id
  ) AS ledger
  FULL OUTER JOIN members_activitybalance AS balance USING (activity_id)
"""


@dataclass(frozen=True)
class Comparison:
    activity_id: int
    ledger_available: Decimal
    ledger_planned: Decimal
    ledger_guaranteed: Decimal
    ledger_entries: int
    balance_available: Decimal | None  # None: the Activity has entries but no balance row
    balance_planned: Decimal | None
    balance_guaranteed: Decimal | None
    balance_entries: int | None
    agrees: bool

    def describe(self) -> str:
        if self.balance_available is None:
            stored = "no balance row"
        else:
            stored = (
                f"balance row available {self.balance_available}, planned "
                f"{self.balance_planned}, guaranteed {self.balance_guaranteed}, "
                f"{self.balance_entries} entries"
            )
        return (
            f"Activity {self.activity_id}: ledger available {self.ledger_available}, planned "
            f"{self.ledger_planned}, guaranteed {self.ledger_guaranteed}, "
            f"{self.ledger_entries} entries; {stored}"
        )


def compare_balances(*, chunk_size: int = 2000) -> Iterator[Comparison]:
    """Yield one comparison per Activity with entries or a balance row, streamed.

    Runs in a transaction (a server-side cursor needs one) and never holds more than
    ``chunk_size`` rows in memory.
    """
    with transaction.atomic(), connection.chunked_cursor() as cursor:
        cursor.itersize = chunk_size
        cursor.execute(COMPARE)
        for row in cursor:
            activity, l_avail, l_plan, l_guar, l_count = row[:5]
            b_avail, b_plan, b_guar, b_count, agrees = row[5:]
            yield Comparison(
                activity_id=activity,
                ledger_available=l_avail if l_avail is not None else Decimal("0.00"),
                ledger_planned=l_plan if l_plan is not None else Decimal("0.00"),
                ledger_guaranteed=l_guar if l_guar is not None else Decimal("0.00"),
                ledger_entries=l_count,
                balance_available=b_avail,
                balance_planned=b_plan,
                balance_guaranteed=b_guar,
                balance_entries=b_count,
                agrees=agrees,
            )


SAMPLE_SIZE = 100


@dataclass(frozen=True)
class Rebuilt:
    corrected: int  # balance rows written because they differed from the ledger (or lacked)
    removed: int  # balance rows of Activities without any entry, deleted
    # The first SAMPLE_SIZE corrections, by Activity: (activity, before, after).
    sample: list[tuple[int, str, str]]
    removed_sample: list[int]


def rebuild_balances() -> Rebuilt:
    """Recompute every balance row from the ledger; change only the rows that differ.

    Ledger inserts wait while this runs (SHARE lock), so no entry is counted twice or missed.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("LOCK TABLE members_ledgerentry IN SHARE MODE")
        cursor.execute(
            """
            WITH ledger AS (
SELECT activity_id,
       COALESCE(SUM(amount) FILTER (WHERE stage = 'available'), 0.00) AS available,
       COALESCE(SUM(amount) FILTER (WHERE stage = 'planned'), 0.00) AS planned,
       COALESCE(SUM(amount) FILTER (WHERE stage = 'guaranteed'), 0.00) AS guaranteed,
       COUNT(*) AS entry_count
  FROM members_ledgerentry
 GROUP BY activity_id
            ),
            old AS (
                SELECT activity_id, available, planned, guaranteed, entry_count
                  FROM members_activitybalance
                 WHERE activity_id IN (SELECT activity_id FROM ledger)
            ),
            upserted AS (
                INSERT INTO members_activitybalance AS balance
                       (activity_id, available, planned, guaranteed, entry_count)
                SELECT activity_id, available, planned, guaranteed, entry_count FROM ledger
                 ORDER BY activity_id
                ON CONFLICT (activity_id) DO UPDATE
                   SET available = EXCLUDED.available,
                       planned = EXCLUDED.planned,
                       guaranteed = EXCLUDED.guaranteed,
                       entry_count = EXCLUDED.entry_count
                 WHERE (balance.available, balance.planned, balance.guaranteed,
                        balance.entry_count)
                       IS DISTINCT FROM
                       (EXCLUDED.available, EXCLUDED.planned, EXCLUDED.guaranteed,
                        EXCLUDED.entry_count)
                RETURNING activity_id, available, planned, guaranteed, entry_count
            )
            SELECT upserted.activity_id,
                   old.available, old.planned, old.guaranteed, old.entry_count,
                   upserted.available, upserted.planned, upserted.guaranteed,
                   upserted.entry_count
              FROM upserted LEFT JOIN old USING (activity_id)
             ORDER BY upserted.activity_id
            """
        )
        corrected, sample = 0, []
        while rows := cursor.fetchmany(5000):
            corrected += len(rows)
            sample.extend(
                (
                    row[0],
                    "none"
                    if row[1] is None
                    else f"{row[1]} / {row[2]} / {row[3]} ({row[4]} entries)",
                    f"{row[5]} / {row[6]} / {row[7]} ({row[8]} entries)",
                )
                for row in rows[: SAMPLE_SIZE - len(sample)]
            )
        cursor.execute(
            """
            DELETE FROM members_activitybalance AS balance
             WHERE NOT EXISTS (
                   SELECT 1 FROM members_ledgerentry AS entry
                    WHERE entry.activity_id = balance.activity_id)
            RETURNING activity_id
            """
        )
        removed = sorted(row[0] for row in cursor.fetchall())
    return Rebuilt(
        corrected=corrected,
        removed=len(removed),
        sample=sample,
        removed_sample=removed[:SAMPLE_SIZE],
    )
