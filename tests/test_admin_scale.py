"""The staff admin stays usable at the cooperative's size (100,000 members, millions of
invoices): no form, inline or list filter loads a big table into a widget, and no changelist of
a big table counts it in full. The admin classes are inspected, not rendered with big data."""

from django import forms
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.filters import EmptyFieldListFilter, SimpleListFilter
from django.contrib.admin.utils import get_fields_from_path
from django.contrib.admin.widgets import (
    AutocompleteMixin,
    ForeignKeyRawIdWidget,
    RelatedFieldWidgetWrapper,
)
from django.contrib.auth import get_user_model
from django.contrib.postgres.indexes import GinIndex
from django.test import RequestFactory

from audit.admin import CappedCountPaginator

# Tables that grow with the members, their invoices, contracts and bookings.
BIG_MODEL_NAMES = [
    "members.Member",
    "members.MembershipEvent",
    "members.ShareSubscription",
    "members.Activity",
    "members.LedgerEntry",
    "members.ApiToken",
    "invoicing.Client",
    "invoicing.Buyer",
    "invoicing.Invoice",
    "invoicing.InvoiceLine",
    "invoicing.InvoiceAllowanceCharge",
    "invoicing.Dispatch",
    "invoicing.BankStatementLine",
    "invoicing.Payment",
    "invoicing.Reminder",
    "invoicing.Refund",
    "contracts.TaxProfile",
    "contracts.Contract",
    "contracts.ContractWorker",
    "contracts.WorkDay",
    "contracts.ContractAttachment",
    "contracts.ContractEvent",
    "contracts.DimonaDeclaration",
    "contracts.Payslip",
    "contracts.ExpenseClaim",
    "contracts.ExpenseReceipt",
    "spaces.BookingSeries",
    "spaces.Booking",
    "spaces.BookingEvent",
    "spaces.Lease",
    "spaces.LeaseCharge",
    "spaces.FeedToken",
    "audit.AuditEvent",
    "audit.DataExport",
]


def big_models():
    return {get_user_model(), *(apps.get_model(name) for name in BIG_MODEL_NAMES)}


def is_big(model):
    return model._meta.concrete_model in big_models()


def loads_every_row(widget):
    """A select (or multiple select) of every row, unlike a raw id box or an autocomplete."""
    if isinstance(widget, RelatedFieldWidgetWrapper):
        widget = widget.widget
    if isinstance(widget, (ForeignKeyRawIdWidget, AutocompleteMixin)):
        return False
    return isinstance(widget, forms.Select | forms.SelectMultiple)


def form_offenders(where, form_class):
    return [
        f"{where}: field {name!r} lists every {field.queryset.model._meta.object_name}"
        for name, field in form_class.base_fields.items()
        if isinstance(field, forms.ModelChoiceField)
        and is_big(field.queryset.model)
        and loads_every_row(field.widget)
    ]


def list_filter_offenders(where, model, list_filter):
    offenders = []
    for entry in list_filter:
        if isinstance(entry, type) and issubclass(entry, SimpleListFilter):
            continue
        path, filter_class = entry if isinstance(entry, tuple) else (entry, None)
        if isinstance(filter_class, type) and issubclass(filter_class, EmptyFieldListFilter):
            continue
        if not isinstance(path, str):
            continue
        field = get_fields_from_path(model, path)[-1]
        if field.is_relation and is_big(field.related_model):
            offenders.append(f"{where}: list_filter {path!r} lists every row of a big table")
    return offenders


def staff_request(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def admin_offenders(user):
    offenders = []
    request = staff_request(user)
    for model, model_admin in admin.site._registry.items():
        where = type(model_admin).__name__
        if is_big(model) and model_admin.show_full_result_count:
            offenders.append(f"{where}: counts the whole table (show_full_result_count)")
        if is_big(model) and not issubclass(model_admin.paginator, CappedCountPaginator):
            offenders.append(f"{where}: its paginator counts the whole table")
        offenders += list_filter_offenders(where, model, model_admin.get_list_filter(request))
        pages = []
        # Without the change permission the change page shows values, not widgets.
        if model_admin.has_change_permission(request, model()):
            pages.append(("change form", model()))
        if model_admin.has_add_permission(request):
            pages.append(("add form", None))
        for page, obj in pages:
            form_class = model_admin.get_form(request, obj)
            offenders += form_offenders(f"{where} {page}", form_class)
            for inline in model_admin.get_inline_instances(request, obj):
                formset = inline.get_formset(request, obj)
                inline_name = type(inline).__name__
                offenders += form_offenders(f"{where} {page} {inline_name}", formset.form)
    return sorted(set(offenders))


def test_no_admin_loads_or_counts_a_big_table(db):
    staff = get_user_model().objects.create_superuser(email="scale@example.org", password="x")

    offenders = admin_offenders(staff)
    assert offenders == [], "\n".join(offenders)


def test_the_walk_catches_a_select_a_filter_and_a_full_count(db):
    """The checks themselves find what they look for."""

    class LoadsEverything(admin.ModelAdmin):
        list_filter = ["user"]

    member_model = apps.get_model("members.Member")
    model_admin = LoadsEverything(member_model, admin.site)
    staff = get_user_model().objects.create_superuser(email="scale@example.org", password="x")
    request = staff_request(staff)

    form = model_admin.get_form(request, None, fields=["user", "legal_name"])
    assert form_offenders("LoadsEverything", form) == [
        "LoadsEverything: field 'user' lists every User"
    ]
    assert list_filter_offenders("LoadsEverything", member_model, ["user", "status"]) == [
        "LoadsEverything: list_filter 'user' lists every row of a big table"
    ]
    assert model_admin.show_full_result_count
    assert not issubclass(model_admin.paginator, CappedCountPaginator)


def test_names_staff_search_by_part_have_a_trigram_index():
    """A search for a part of a name reads a trigram index, not every row: through ILIKE
    (``__contains_any_case``), which the index answers, not ``icontains``'s UPPER()."""
    searched = set()
    for model, model_admin in admin.site._registry.items():
        for search_field in model_admin.search_fields:
            if search_field[0] not in "^=@":
                path = search_field.removesuffix("__contains_any_case")
                field = get_fields_from_path(model, path)[-1]
                searched.add((field.model._meta.label, field.name, path != search_field))

    for label, name in [
        ("members.User", "email"),
        ("members.User", "name"),
        ("members.Member", "legal_name"),
        ("members.Activity", "name"),
        ("invoicing.Client", "name"),
    ]:
        assert (label, name, True) in searched
        assert (label, name, False) not in searched
        assert any(
            isinstance(index, GinIndex)
            and index.fields == [name]
            and index.opclasses == ["gin_trgm_ops"]
            for index in apps.get_model(label)._meta.indexes
        ), (label, name)


# The changelists staff open most, on the biggest tables: each is planned on indexes.
PLANNED_CHANGELISTS = [
    "members.User",
    "members.Member",
    "members.ShareSubscription",
    "members.Activity",
    "members.LedgerEntry",
    "invoicing.Client",
    "invoicing.Invoice",
    "invoicing.Payment",
    "invoicing.BankStatement",
    "invoicing.BankStatementLine",
    "invoicing.Dispatch",
    "contracts.Contract",
    "contracts.ContractAwaitingApproval",
    "contracts.PayrollRun",
    "contracts.Payslip",
    "contracts.ExpenseClaim",
    "spaces.Booking",
    "spaces.Lease",
]


def big_tables() -> set[str]:
    return {model._meta.db_table for model in big_models()}


def plan_offenders(plan: dict, tables: set[str]) -> list[str]:
    """In a JSON plan: Seq Scans of a big table; Sorts whose input reads a whole big table (not
    in a subquery of theirs: rows found by an index condition are few); and full index scans
    of a big table with a filter and no Limit above them (a Seq Scan in disguise, once
    sequential scans are disabled)."""
    offenders = []

    def inputs(node):
        """The rows a node works on: its children but its subqueries."""
        return [
            child
            for child in node.get("Plans", [])
            if child.get("Parent Relationship") not in ("SubPlan", "InitPlan")
        ]

    def reads_big(node) -> bool:
        """Reads a whole big table (a scan without an index condition), itself or below."""
        whole = (
            node.get("Relation Name") in tables
            and node["Node Type"] in ("Seq Scan", "Index Scan", "Index Only Scan")
            and "Index Cond" not in node
        )
        # The rows sorted come from the outer side of a join: its inner side is looked up.
        return whole or any(
            reads_big(child)
            for child in inputs(node)
            if child.get("Parent Relationship") != "Inner"
        )

    def walk(node, limited: bool):
        kind = node["Node Type"]
        relation = node.get("Relation Name")
        if kind == "Seq Scan" and relation in tables:
            offenders.append(f"Seq Scan on {relation}")
        if kind == "Sort" and any(reads_big(child) for child in inputs(node)):
            offenders.append(f"Sort ({', '.join(node.get('Sort Key', []))}) over a big table")
        if (
            kind in ("Index Scan", "Index Only Scan")
            and relation in tables
            and "Index Cond" not in node
            and "Filter" in node
            and not limited
        ):
            offenders.append(f"Full index scan of {relation} with a filter")
        for child in node.get("Plans", []):
            walk(child, limited or kind == "Limit")

    walk(plan["Plan"], limited=False)
    return offenders


def explain_offenders(queries, tables: set[str]) -> list[str]:
    """EXPLAIN each SELECT with sequential scans and sorts made as costly as can be: what is
    left of them in a plan is what no index can replace."""
    from django.db import connection, transaction

    offenders = []
    # In a savepoint rolled back at the end: the settings and the statistics below are undone.
    savepoint = transaction.savepoint()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_sort = off")
            # A test's tables hold a few rows; once autovacuum has analysed one, reading all of
            # it is the cheapest plan whatever the indexes. Every table checked is made to look
            # never analysed, so the plan does not depend on when autovacuum ran in the test.
            cursor.execute(
                "UPDATE pg_class SET reltuples = -1, relpages = 0, relallvisible = 0"
                " WHERE relkind = 'r' AND relname = ANY(%s)",
                [sorted(tables)],
            )
            cursor.execute(
                "DELETE FROM pg_statistic WHERE starelid IN"
                " (SELECT oid FROM pg_class WHERE relkind = 'r' AND relname = ANY(%s))",
                [sorted(tables)],
            )
            for query in queries:
                sql = query["sql"]
                if not sql.lstrip().upper().startswith("SELECT"):
                    continue
                if not any(f'"{table}"' in sql for table in tables):
                    continue
                cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
                plan = cursor.fetchone()[0]
                plan = plan[0] if isinstance(plan, list) else plan
                offenders += [f"{found}: {sql[:200]}" for found in plan_offenders(plan, tables)]
    finally:
        transaction.savepoint_rollback(savepoint)
    return offenders


def changelist_url(label: str) -> str:
    from django.urls import reverse

    model = apps.get_model(label)
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def test_the_main_changelists_read_big_tables_by_their_indexes(client, db, settings, tmp_path):
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from members.demo import DEMO_STAFF

    settings.MEDIA_ROOT = tmp_path
    call_command("seed_demo", verbosity=0)
    client.force_login(get_user_model().objects.get(email=DEMO_STAFF))
    tables = big_tables()
    offenders = []
    for label in PLANNED_CHANGELISTS:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(changelist_url(label)).status_code == 200, label
        offenders += [f"{label}: {found}" for found in explain_offenders(captured, tables)]

    assert offenders == [], "\n".join(offenders)


def test_the_plan_check_finds_a_seq_scan_and_a_sort(db):
    """An unindexed filter and an unindexed order are caught."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from members.models import LedgerEntry

    with CaptureQueriesContext(connection) as captured:
        list(LedgerEntry.objects.filter(description="x").order_by())
        list(LedgerEntry.objects.filter(description="x").order_by("pk"))
        list(LedgerEntry.objects.order_by("amount")[:10])
        list(LedgerEntry.objects.order_by("-pk")[:10])  # by the primary key: fine
    offenders = explain_offenders(captured, big_tables())
    assert [offender.split(":")[0] for offender in offenders] == [
        "Seq Scan on members_ledgerentry",
        "Full index scan of members_ledgerentry with a filter",
        "Sort (amount) over a big table",
        "Seq Scan on members_ledgerentry",  # under that sort
    ]


def test_changelist_query_counts_do_not_grow_with_the_rows_shown(client, db, settings, tmp_path):
    """Every changelist makes as many queries for one row a page as for fifty (no N+1), and
    at most a dozen."""
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from members.demo import DEMO_STAFF

    settings.MEDIA_ROOT = tmp_path
    call_command("seed_demo", verbosity=0)
    client.force_login(get_user_model().objects.get(email=DEMO_STAFF))
    counts = {}
    for model, model_admin in admin.site._registry.items():
        label = model._meta.label
        if model_admin.get_queryset(staff_request(client_user(client))).count() < 2:
            continue
        url = changelist_url(label)
        client.get(url)  # the session and the content types settle first
        per_size = []
        for size in (1, 50):
            model_admin.list_per_page = size
            try:
                with CaptureQueriesContext(connection) as captured:
                    assert client.get(url).status_code == 200, label
            finally:
                del model_admin.list_per_page
            per_size.append(len(captured))
        counts[label] = per_size

    grows = {label: sizes for label, sizes in counts.items() if sizes[0] != sizes[1]}
    too_many = {label: sizes for label, sizes in counts.items() if sizes[1] > 12}
    assert grows == {} and too_many == {}, (grows, too_many)
    assert {"invoicing.Invoice", "members.LedgerEntry", "spaces.Booking"} <= set(counts)


def client_user(client):
    return get_user_model().objects.get(pk=client.session["_auth_user_id"])


# What staff pick by typing a name, an e-mail address or a number: never by a list of ids.
PICKED_BY_AUTOCOMPLETE = ["members.User", "members.Member", "members.Activity"]
PICKED_BY_AUTOCOMPLETE += ["invoicing.Client", "invoicing.Invoice"]


def test_people_clients_activities_and_invoices_are_picked_by_autocomplete(db):
    staff = get_user_model().objects.create_superuser(email="scale@example.org", password="x")
    request = staff_request(staff)
    picked = {apps.get_model(label) for label in PICKED_BY_AUTOCOMPLETE}
    offenders, autocompletes = [], 0
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label not in ("members", "invoicing", "contracts", "spaces", "audit"):
            continue
        pages = [("add form", None)] if model_admin.has_add_permission(request) else []
        if model_admin.has_change_permission(request, model()):
            pages.append(("change form", model()))
        for page, obj in pages:
            forms_shown = [model_admin.get_form(request, obj)]
            forms_shown += [
                inline.get_formset(request, obj).form
                for inline in model_admin.get_inline_instances(request, obj)
            ]
            for form_class in forms_shown:
                for name, field in form_class.base_fields.items():
                    if not isinstance(field, forms.ModelChoiceField):
                        continue
                    if field.queryset.model not in picked:
                        continue
                    widget = field.widget
                    if isinstance(widget, RelatedFieldWidgetWrapper):
                        widget = widget.widget
                    if isinstance(widget, AutocompleteMixin):
                        autocompletes += 1
                    else:
                        offenders.append(f"{type(model_admin).__name__} {page}: {name}")
    assert offenders == []
    assert autocompletes >= 10


def test_the_invoice_pickers_offer_issued_documents_of_their_kind_once_typed(
    client, db, settings, tmp_path
):
    """An autocomplete lists nothing before a number or a name is typed (millions of invoices),
    and the credit note picker of a refund offers credit notes found by their number."""
    from allauth.mfa.totp.internal.auth import TOTP

    from invoicing.models import Invoice

    staff = get_user_model().objects.create_superuser(email="scale@example.org", password="x")
    TOTP.activate(staff, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    client.force_login(staff)

    def found(field: str, term: str) -> list[str]:
        response = client.get(
            "/admin/autocomplete/",
            {"app_label": "invoicing", "model_name": "refund", "field_name": field, "term": term},
        )
        assert response.status_code == 200
        return [Invoice.objects.get(pk=row["id"]).number for row in response.json()["results"]]

    from django.core.management import call_command

    settings.MEDIA_ROOT = tmp_path
    call_command("seed_demo", verbosity=0)
    invoice = Invoice.objects.filter(kind="invoice", number__isnull=False).first()
    credit_note = Invoice.objects.filter(kind="credit_note", number__isnull=False).first()
    assert found("invoice", "") == [] and found("credit_note", "") == []
    assert found("invoice", invoice.number) == [invoice.number]
    assert found("credit_note", invoice.number) == []
    assert found("credit_note", credit_note.number) == [credit_note.number]
    assert found("invoice", credit_note.number) == []
