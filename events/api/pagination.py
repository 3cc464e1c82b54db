from __future__ import annotations

from django.core.paginator import Paginator
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request


class StrictPageNumberPagination(PageNumberPagination):
    """``?page=N`` with N a page that exists, else 404; no page at all is page 1.

    DRF would also take ``?page=`` as page 1 and ``?page=last``; the schema
    promises an integer, so anything else is refused like any other bad page.
    """

    last_page_strings = ()

    def get_page_number(self, request: Request, paginator: Paginator) -> str | int:
        return request.query_params.get(self.page_query_param, 1)
