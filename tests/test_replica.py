"""The read replica: heavy read-only reports read from it, writes and transactions never do.

The replica alias is configured here as Django's test mirror of default: a second connection
to the test database, as a streaming replica is a second server with default's committed rows.
Queries are counted per connection, so each assertion says which server a query reached.
"""

import copy
import datetime
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit import privacy
from audit.models import DataExport
from coop.db import REPLICA_DB_ALIAS, reads_from_replica, reporting_alias
from invoicing.models import GuaranteeFundFigure
from invoicing.services.issue import submit_invoice
from invoicing.tasks import refresh_guarantee_fund_task
from members.models import Member
from spaces import selectors as space_selectors
from tests.conftest import NOW
from tests.invoicing.conftest import (  # noqa: F401 (fixtures)
    TODAY,
    belgian_client,
    line,
    make_draft,
    no_review,
    staff_client,
)
from tests.spaces.conftest import house_activity, make_room, site  # noqa: F401 (fixtures)

ROOT = Path(__file__).resolve().parent.parent
WRITES = ("INSERT", "UPDATE", "DELETE")
committed = pytest.mark.django_db(transaction=True, databases=[DEFAULT_DB_ALIAS, REPLICA_DB_ALIAS])


@pytest.fixture(scope="module")
def replica_alias(django_db_setup, django_db_blocker):
    """Add the replica alias, a test mirror of default (the test database, once it exists)."""
    primary = copy.deepcopy(connections[DEFAULT_DB_ALIAS].settings_dict)
    primary["TEST"] = {**primary["TEST"], "MIRROR": DEFAULT_DB_ALIAS}
    connections.settings[REPLICA_DB_ALIAS] = primary
    try:
        yield REPLICA_DB_ALIAS
    finally:
        connections[REPLICA_DB_ALIAS].close()
        del connections[REPLICA_DB_ALIAS]
        del connections.settings[REPLICA_DB_ALIAS]


@pytest.fixture
def replica(replica_alias, settings):
    """The replica alias with the reporting router installed."""
    settings.DATABASE_ROUTERS = ["coop.db_router.ReportingRouter"]
    return connections[replica_alias]


class Counted:
    """The queries each server received inside the block."""

    def __enter__(self):
        self.default = CaptureQueriesContext(connections[DEFAULT_DB_ALIAS])
        self.replica = CaptureQueriesContext(connections[REPLICA_DB_ALIAS])
        self.default.__enter__()
        self.replica.__enter__()
        return self

    def __exit__(self, *exc):
        self.replica.__exit__(*exc)
        self.default.__exit__(*exc)

    def writes(self, captured) -> list[str]:
        return [query["sql"] for query in captured if query["sql"].lstrip().startswith(WRITES)]


def settings_with(**environment: str) -> dict:
    """Load the settings in a fresh interpreter with this environment; return what matters."""
    script = (
        "import json, django; django.setup(); from django.conf import settings;"
        "from coop.db import reporting_alias;"
        "print(json.dumps({'aliases': sorted(settings.DATABASES), 'routers':"
        " settings.DATABASE_ROUTERS, 'reporting': reporting_alias(), 'databases':"
        " {alias: {'name': db['NAME'], 'port': db['PORT'], 'mirror': db.get('TEST', {}).get("
        "'MIRROR'), 'cursors': db.get('DISABLE_SERVER_SIDE_CURSORS', False), 'prepare':"
        " db['OPTIONS'].get('prepare_threshold', 'unset')} for alias, db in"
        " settings.DATABASES.items()}}))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "coop.settings", **environment}
    for name in ("DATABASE_REPLICA_URL", "DATABASE_POOLING"):
        if name not in environment:
            env.pop(name, None)
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_without_a_replica_everything_reads_from_default():
    loaded = settings_with()
    assert loaded["aliases"] == ["default"]
    assert loaded["routers"] == []
    assert loaded["reporting"] == "default"


def test_a_replica_url_adds_the_alias_and_the_router():
    loaded = settings_with(
        DATABASE_URL="postgres://coop@primary:5432/coop",
        DATABASE_REPLICA_URL="postgres://coop@standby:5433/coop",
    )
    assert loaded["aliases"] == ["default", "replica"]
    assert loaded["routers"] == ["coop.db_router.ReportingRouter"]
    assert loaded["reporting"] == "replica"
    assert loaded["databases"]["replica"] == {
        "name": "coop",
        "port": 5433,
        "mirror": "default",
        "cursors": False,
        "prepare": "unset",
    }


def test_transaction_pooling_turns_off_server_side_cursors_and_prepared_statements():
    loaded = settings_with(
        DATABASE_POOLING="transaction",
        DATABASE_REPLICA_URL="postgres://coop@standby:6433/coop",
    )
    for alias in ("default", "replica"):
        assert loaded["databases"][alias]["cursors"] is True
        assert loaded["databases"][alias]["prepare"] is None
    assert settings_with()["databases"]["default"]["cursors"] is False


@committed
def test_the_guarantee_fund_reads_from_the_replica(
    replica,
    staff_client,  # noqa: F811
    member,
    activity,
    belgian_client,  # noqa: F811
    no_review,  # noqa: F811
):
    invoice = make_draft(member, activity, belgian_client, [line(quantity="10", price="100.00")])
    submit_invoice(user=member.user, invoice=invoice, today=TODAY, now=NOW)
    assert reporting_alias() == REPLICA_DB_ALIAS

    # The refresh (Celery beat, "Refresh now") sums the invoices on the replica and writes the
    # figures to default.
    with Counted() as counted:
        assert refresh_guarantee_fund_task() is True

    receivables = [q for q in counted.replica if "invoicing_invoice" in q["sql"]]
    assert len(receivables) == 1
    assert not [q for q in counted.default if 'FROM "invoicing_invoice"' in q["sql"]]
    assert counted.writes(counted.replica) == []
    assert [q.split()[0] for q in counted.writes(counted.default)] == ["DELETE"]  # COPY: unlogged
    assert GuaranteeFundFigure.objects.using(DEFAULT_DB_ALIAS).filter(kind="total").count() == 1

    with Counted() as counted:
        response = staff_client.get(reverse("guarantee_fund"))

    assert response.status_code == 200
    # The committed invoice, read on the replica: 1,000.00 + 21 % VAT outstanding.
    assert "1,210.00\u00a0€" in response.content.decode()
    figures = [q for q in counted.replica if GuaranteeFundFigure._meta.db_table in q["sql"]]
    assert len(figures) == 1
    assert not [q for q in counted.default if 'FROM "invoicing_invoice"' in q["sql"]]
    assert counted.writes(counted.replica) == []


@committed
def test_occupancy_reads_from_the_replica(replica, site):  # noqa: F811
    make_room(site)
    with Counted() as counted:
        figures = space_selectors.occupancy(
            site, first=datetime.date(2026, 3, 9), last=datetime.date(2026, 3, 15)
        )
    assert len(figures["rows"]) == 1
    assert figures["booked_hours"] == 0
    # Rooms, bookings, lease charges, opening hours and closures: all on the replica.
    assert len(counted.replica) >= 3
    assert len(counted.default) == 0


@committed
def test_a_data_export_reads_the_members_rows_from_the_replica_and_writes_to_default(
    replica, member, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    export = DataExport.objects.create(user=member.user, created_at=NOW)
    with Counted() as counted:
        assert privacy.build_data_export(export=export) is True
    export.refresh_from_db()
    assert export.status == DataExport.Status.READY
    assert any("members_member" in q["sql"] for q in counted.replica)
    assert counted.writes(counted.replica) == []
    written = counted.writes(counted.default)
    assert any('UPDATE "audit_dataexport"' in sql for sql in written)
    assert any('INSERT INTO "audit_auditevent"' in sql for sql in written)


@committed
def test_writes_and_reads_inside_a_transaction_stay_on_default(replica, member):
    with reads_from_replica(), Counted() as counted:
        read = Member.objects.get(pk=member.pk)
        assert read._state.db == REPLICA_DB_ALIAS
        read.phone = "+32 2 000 00 00"
        read.save(update_fields=["phone"])  # a row read from the replica is saved to default
        with transaction.atomic():
            Member.objects.select_for_update().get(pk=member.pk)
            assert Member.objects.filter(phone="+32 2 000 00 00").count() == 1
    assert len(counted.replica) == 1  # the first read only
    written = counted.writes(counted.default)
    assert len(written) == 1 and written[0].startswith('UPDATE "members_member" SET "phone"')
    statements = [query["sql"].split(" ", 1)[0] for query in counted.default]
    assert statements == ["UPDATE", "BEGIN", "SELECT", "SELECT", "COMMIT"]


@committed
def test_outside_a_report_reads_stay_on_default(replica, member):
    with Counted() as counted:
        assert Member.objects.get(pk=member.pk).pk == member.pk
    assert (len(counted.default), len(counted.replica)) == (1, 0)
