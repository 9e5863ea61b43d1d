"""Numbered pages that count the rows only when they fill more than the first page.

Most members have fewer rows of a kind than one page holds: reading that first page then tells
how many there are, and the ``COUNT(*)``, which repeats the list's visibility filter, is saved.
Anything else (a full first page, another page number, a bad one) is Django's own behaviour.
"""

from django.core import paginator
from rest_framework import pagination


class Paginator(paginator.Paginator):
    def page(self, number):
        if str(number) != "1" or self.orphans:
            return super().page(number)
        rows = list(self.object_list[: self.per_page])
        if len(rows) < self.per_page and "count" not in self.__dict__:
            self.__dict__["count"] = len(rows)  # The cached_property, known without a query.
        self.validate_number(1)
        return self._get_page(rows, 1, self)

    def get_page(self, number):
        if number in (None, "", "1", 1):
            return self.page(1)
        return super().get_page(number)


class PageNumberPagination(pagination.PageNumberPagination):
    """DRF's page numbers, with the same answers, counting only lists longer than a page."""

    django_paginator_class = Paginator
