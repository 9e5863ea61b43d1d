"""Record the cooperative's bank accounts from COOP_BANK_ACCOUNTS, and link past statements."""

from django.conf import settings
from django.db import migrations

from invoicing.bank_accounts import parse_configured_accounts


def seed(apps, schema_editor):
    BankAccount = apps.get_model("invoicing", "BankAccount")
    BankStatement = apps.get_model("invoicing", "BankStatement")
    for configured in parse_configured_accounts(settings.COOP_BANK_ACCOUNTS):
        account, _created = BankAccount.objects.get_or_create(
            iban=configured.iban,
            other_id=configured.other_id,
            other_scheme=configured.other_scheme,
            other_issuer=configured.other_issuer,
        )
        BankStatement.objects.filter(
            account_iban=configured.iban or configured.other_id, bank_account=None
        ).update(bank_account=account)


class Migration(migrations.Migration):
    dependencies = [("invoicing", "0007_bank_accounts")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
