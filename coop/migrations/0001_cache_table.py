"""The table of the PostgreSQL cache (coop.cache.DatabaseCache, CACHES["default"]).

Created here rather than by ``manage.py createcachetable`` so that every database that is
migrated has it; same shape as Django's own cache table.
"""

from django.db import migrations


class Migration(migrations.Migration):
    initial = True
    dependencies = []

    operations = [
        migrations.RunSQL(
            sql=[
                "CREATE TABLE coop_cache ("
                " cache_key varchar(255) NOT NULL PRIMARY KEY,"
                " value text NOT NULL,"
                " expires timestamp with time zone NOT NULL)",
                "CREATE INDEX coop_cache_expires ON coop_cache (expires)",
            ],
            reverse_sql=["DROP TABLE coop_cache"],
        )
    ]
