"""Staff's list of expense claims: those sent to them, newest first, drafts left out.

Read in this index's order, the default list (status other than draft, newest first) takes its
first page without reading the drafts members are still writing."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("contracts", "0007_admin_indexes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="expenseclaim",
            index=models.Index(
                condition=models.Q(("status", "draft"), _negated=True),
                fields=["-id"],
                name="expense_admin_sent_idx",
            ),
        ),
    ]
