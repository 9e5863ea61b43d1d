"""What staff type in the admin's search boxes, each found by an index.

- bankline_admin_iban_idx: a bank line by the payer's IBAN in full (the lines grow with every
  statement imported: without it, every line is read).
- buyer_name_trgm: a buyer by a part of its registered name (ILIKE, as for clients' names).
- refund_admin_iban_idx: a refund by the client's IBAN in full.
"""

import django.contrib.postgres.indexes
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("invoicing", "0022_guarantee_fund_figures"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="bankstatementline",
            index=models.Index(fields=["counterparty_iban"], name="bankline_admin_iban_idx"),
        ),
        migrations.AddIndex(
            model_name="buyer",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["legal_name"], name="buyer_name_trgm", opclasses=["gin_trgm_ops"]
            ),
        ),
        migrations.AddIndex(
            model_name="refund",
            index=models.Index(fields=["client_iban"], name="refund_admin_iban_idx"),
        ),
    ]
