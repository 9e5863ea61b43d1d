"""Numbered pages: a list shorter than a page is not counted, and every page reads as before."""

import pytest
from django.core import paginator as django_paginator
from django.db import connection
from django.test.utils import CaptureQueriesContext

from coop.pagination import Paginator
from members.models import User
from tests.conftest import make_user


@pytest.fixture
def users(db):
    return [make_user(f"page{number}@coop.test") for number in range(7)]


def _page(paginator_class, number, *, per_page):
    rows = User.objects.filter(email__startswith="page").order_by("email")
    with CaptureQueriesContext(connection) as captured:
        page = paginator_class(rows, per_page).get_page(number)
        shown = (
            [user.email for user in page],
            page.number,
            page.paginator.count,
            page.paginator.num_pages,
            page.has_next(),
            page.has_previous(),
        )
    return shown, len(captured)


@pytest.mark.parametrize("number", [None, "", "1", 1, "2", "3", "9", "x", "-1"])
@pytest.mark.parametrize("per_page", [3, 7, 10])
def test_pages_are_those_of_django(users, number, per_page):
    ours, _queries = _page(Paginator, number, per_page=per_page)
    django, _queries = _page(django_paginator.Paginator, number, per_page=per_page)
    assert ours == django


def test_a_first_page_holding_every_row_is_read_without_a_count(users):
    (names, number, count, *_rest), queries = _page(Paginator, None, per_page=10)
    assert (len(names), number, count, queries) == (7, 1, 7, 1)


def test_a_full_first_page_is_counted_and_read_once(users):
    (names, _number, count, *_rest), queries = _page(Paginator, "1", per_page=7)
    assert (len(names), count, queries) == (7, 7, 2)


def test_an_empty_list_has_one_empty_page(db):
    rows = User.objects.none().order_by("pk")
    page = Paginator(rows, 5).get_page(None)
    assert (list(page), page.paginator.count, page.paginator.num_pages) == ([], 0, 1)
    with pytest.raises(django_paginator.EmptyPage):
        Paginator(User.objects.filter(pk=0).order_by("pk"), 5, allow_empty_first_page=False).page(1)
