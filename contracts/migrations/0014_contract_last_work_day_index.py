"""Contracts by last work day whatever their status: a quarter's DmfA, a year's accounts.

Measured at full size (150,000 contracts, 490,233 payslips copied from the full-size world,
vacuumed, quarter 2026-3: 17,250 contracts, 60,375 payslips), the DmfA quarter's totals query
(declarations.selectors.quarter_totals) with EXPLAIN (ANALYZE, BUFFERS):

Before (the (status, last_work_day) index cannot serve a range over every status):
    Parallel Seq Scan on contracts_contract (rows 5,750 x 3, 44,266 x 3 removed by filter)
        Filter: last_work_day >= '2026-07-01' AND last_work_day <= '2026-09-30'
    Parallel Hash Join ... Sort by kind, employee_category (rows 20,125 x 3)
    GroupAggregate, Buffers: shared hit=11252, Execution Time: 733 ms (a loaded machine)

After:
    Index Scan using contract_last_work_day_idx on contracts_contract (rows 17,250 x 3,
        actual time 0.07..8.7 ms, Buffers: shared hit=2010)
        Index Cond: last_work_day >= '2026-07-01' AND last_work_day <= '2026-09-30'

The rest of the quarter is genuinely 60,375 payslips to sum (a ninth of all payslips, so the
planner rightly hashes them): the staff screen therefore sums a quarter on demand only (the
"Show the totals" button), not on every opening of the page.
"""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('contracts', '0013_payroll_year'),
        ('invoicing', '0028_client_email_lower_index'),
        ('members', '0013_ledger_copyright_payment_kind'),
        ('quotes', '0005_quote_list_by_number'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name='contract',
            index=models.Index(fields=['last_work_day'], name='contract_last_work_day_idx'),
        ),
    ]
