"""The client portal finds every member's client record of one e-mail address, whatever its case.

``WHERE lower(email) = 'invoices@theatre.example'`` on 400,000 client records, EXPLAIN (ANALYZE,
BUFFERS):

- without this index: Parallel Seq Scan on invoicing_client, 133,344 rows removed by filter
  per worker, shared hit=7683, 413 ms;
- with it: Index Scan using client_email_lower_idx, rows=6, shared hit=4, 0.06 ms.

Every portal page and the sign-in request run this look-up first (portal.selectors.clients_of).
"""

import django.db.models.functions.text
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("invoicing", "0027_payment_online"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="client",
            index=models.Index(
                django.db.models.functions.text.Lower("email"), name="client_email_lower_idx"
            ),
        ),
    ]
