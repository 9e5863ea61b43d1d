"""Carry DRF authtoken keys over to members.ApiToken, then drop rest_framework.authtoken's table.

Members' keys keep working for 90 days, named "Carried over"; keys of staff, of users holding any
permission (space managers) and of inactive users are dropped: those users create a new token
after a second-factor check. The old table stored keys in clear, so it is removed.
"""

import datetime
import hashlib

from django.db import migrations
from django.utils import timezone

CARRIED_OVER_DAYS = 90


def carry_over_authtoken_tokens(apps, schema_editor):
    connection = schema_editor.connection
    if "authtoken_token" not in connection.introspection.table_names():
        return
    ApiToken = apps.get_model("members", "ApiToken")
    User = apps.get_model("members", "User")
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute("SELECT key, user_id FROM authtoken_token ORDER BY created")
        rows = cursor.fetchall()
    for key, user_id in rows:
        user = User.objects.get(pk=user_id)
        elevated = (
            user.is_staff
            or user.is_superuser
            or user.user_permissions.exists()
            or user.groups.filter(permissions__isnull=False).exists()
        )
        if elevated or not user.is_active:
            continue
        ApiToken.objects.create(
            user=user,
            name="Carried over",
            prefix=key[:8],
            key_hash=hashlib.sha256(key.encode()).hexdigest(),
            created_at=now,
            expires_at=now + datetime.timedelta(days=CARRIED_OVER_DAYS),
            second_factor_verified=False,
        )
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE authtoken_token")
        cursor.execute("DELETE FROM django_migrations WHERE app = 'authtoken'")


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("members", "0003_api_tokens"),
    ]

    operations = [
        migrations.RunPython(carry_over_authtoken_tokens, migrations.RunPython.noop),
    ]
