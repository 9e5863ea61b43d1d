"""Every admin page staff can reach opens on the demo world, and no file link bypasses the
views that check who asks."""

from django.contrib import admin
from django.core.management import call_command
from django.urls import NoReverseMatch, reverse

from members.demo import DEMO_STAFF
from members.models import User


def test_every_admin_list_add_and_first_change_page_opens(client, db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    call_command("seed_demo")
    # The demo's staff login already has its second factor.
    client.force_login(User.objects.get(email=DEMO_STAFF))
    opened = []

    for model, model_admin in admin.site._registry.items():
        info = (model._meta.app_label, model._meta.model_name)
        changelist = client.get(reverse("admin:{}_{}_changelist".format(*info)))
        assert changelist.status_code == 200, info
        if model_admin.has_add_permission(changelist.wsgi_request):
            add = client.get(reverse("admin:{}_{}_add".format(*info)))
            assert add.status_code == 200, info
        first = model_admin.get_queryset(changelist.wsgi_request).order_by("pk").first()
        if first is None:
            continue
        try:
            url = reverse("admin:{}_{}_change".format(*info), args=[first.pk])
        except NoReverseMatch:
            continue
        page = client.get(url)
        assert page.status_code == 200, info
        assert 'href="/media/' not in page.content.decode(), info
        opened.append(info)

    # The demo fills the models staff work with.
    for expected in [
        ("contracts", "contract"),
        ("contracts", "expenseclaim"),
        ("contracts", "payrollrun"),
        ("contracts", "payslip"),
        ("invoicing", "invoice"),
        ("members", "member"),
        ("spaces", "booking"),
        ("spaces", "lease"),
    ]:
        assert expected in opened
