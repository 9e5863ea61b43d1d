"""Staff find a member by an IBAN typed in full (the admin's search): one index lookup among
100,000 members instead of reading them all."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0010_admin_indexes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="member",
            index=models.Index(fields=["iban"], name="member_admin_iban_idx"),
        ),
    ]
