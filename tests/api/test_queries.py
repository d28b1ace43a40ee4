"""Every list and detail of the API runs the same number of queries whatever the number of
rows, for a machine client: the token with its account and region (1), the feed horizon (1,
lists only), the page or the row (1), the pull log (1)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from common.api.routers import sync_resources

from .conftest import add_county

RESOURCES = sorted(sync_resources())
LIST_QUERIES = 4
DETAIL_QUERIES = 3


def count(client, url, **params) -> tuple[int, int, list[str]]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
    assert response.status_code == 200, (url, response.content[:200])
    body = response.json()
    rows = len(body["results"]) if "results" in body else 1
    return len(ctx.captured_queries), rows, [q["sql"][:120] for q in ctx.captured_queries]


@pytest.mark.parametrize("resource", RESOURCES)
def test_same_queries_at_two_sizes(world, callers, resource):
    client = callers["province"].client
    url = f"/api/v1/{resource}/"
    add_county(world, 1)
    client.get(url)  # the token's last use is recorded once a minute, not in the counts
    small, small_rows, sql = count(client, url, page_size=1000)
    assert small == LIST_QUERIES, sql
    add_county(world, 2)
    add_county(world, 3)
    large, large_rows, sql = count(client, url, page_size=1000)
    assert large_rows > small_rows, (resource, small_rows, large_rows)
    assert large == small, sql
    first = client.get(url).json()["results"][0]["id"]
    queries, _rows, sql = count(client, f"{url}{first}/")
    assert queries == DETAIL_QUERIES, sql
