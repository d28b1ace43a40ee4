"""The scope walk of the API: for every read resource the routers serve and every role, the
list holds exactly the rows of the role's scope, an out-of-scope id answers exactly like a
missing one, and roles that may not read the API are refused everywhere. A read resource
without a case in cases.py fails here; so does an API view that no ApiRouter registered, and a
workflow endpoint whose scope test is not named in cases.OTHER_SCOPE_TESTS."""

import importlib

import pytest
from django.db.models import Q
from django.urls import URLPattern, URLResolver, get_resolver

from common.api.routers import REGISTRY, registry, sync_resources

from .cases import CASES, COUNTY_SCOPED, OTHER_SCOPE_TESTS, SERVED
from .conftest import pull_all

MISSING_ID = 987654321


def api_views(resolver=None, prefix=""):
    """(route, view class) of every DRF view mounted under /api/v1/."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from api_views(entry, route)
        elif isinstance(entry, URLPattern) and route.startswith("api/v1/"):
            cls = getattr(entry.callback, "cls", None)
            if cls is not None:
                yield route, cls


def test_every_api_view_is_a_registered_resource_with_a_scope_case():
    seen = set()
    for route, cls in api_views():
        if route == "api/v1/":
            continue  # the index, which lists the resources and no rows
        assert REGISTRY.get(getattr(cls, "resource", None)) is cls, (
            f"{route}: {cls.__name__} is not registered on an ApiRouter"
        )
        seen.add(cls.resource)
    assert seen == set(registry())
    missing = set(sync_resources()) - set(CASES)
    assert not missing, f"add a scope case to tests/api/cases.py for: {sorted(missing)}"
    for resource in set(registry()) - set(sync_resources()):
        assert resource in OTHER_SCOPE_TESTS, (
            f"name the scope test of {resource!r} in tests/api/cases.py OTHER_SCOPE_TESTS"
        )
        module, _sep, name = OTHER_SCOPE_TESTS[resource].partition("::")
        assert hasattr(importlib.import_module(module), name), OTHER_SCOPE_TESTS[resource]


def expected_ids(resource, user) -> set[int]:
    """What the role's scope holds, from the model's own visible_to(), of the rows the
    resource serves (cases.SERVED)."""
    model = REGISTRY[resource].model()
    rows = model.objects.visible_to(user).filter(SERVED.get(resource, Q()))
    return set(rows.values_list("pk", flat=True))


def answer(client, url):
    response = client.get(url)
    return response.status_code, response.json()


@pytest.mark.parametrize("resource", sorted(sync_resources()))
def test_scope_walk(world, callers, resource):
    assert resource in CASES, f"add a scope case to tests/api/cases.py for {resource!r}"
    inside, outside = CASES[resource](world)
    base = f"/api/v1/{resource}/"
    for caller in callers.values():
        client = caller.client
        if caller.sees == "forbidden":
            for url in (base, f"{base}{inside.pk}/", f"{base}{MISSING_ID}/"):
                status, body = answer(client, url)
                assert status == 403, (caller.name, url, status)
                assert body["message"], body
            continue
        listed = {row["id"] for row in pull_all(client, base, page_size=2)}
        assert listed == expected_ids(resource, caller.user), caller.name
        visible = {"all": {inside, outside}, "a": {inside}, "none": set()}[caller.sees]
        if resource in COUNTY_SCOPED and caller.user.role == "township_admin":
            visible = set()
        missing = answer(client, f"{base}{MISSING_ID}/")
        assert missing[0] == 404, (caller.name, missing)
        for obj in (inside, outside):
            if obj in visible:
                assert obj.pk in listed, (caller.name, obj)
                status, body = answer(client, f"{base}{obj.pk}/")
                assert (status, body["id"]) == (200, obj.pk), caller.name
            else:
                assert obj.pk not in listed, (caller.name, obj)
                assert answer(client, f"{base}{obj.pk}/") == missing, (caller.name, obj)
