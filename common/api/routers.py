"""Each app's `urls.py` registers its endpoints on its own ApiRouter; the registry below is
the list of every endpoint, which the deletion feed (resource names), the index and the tests
(the scope walk, the schema checks) read.

Read endpoints of synced tables are `SyncViewSet`s. A workflow endpoint (an export request,
say) may be any DRF viewset; it registers here all the same, so that the tests find it and
ask for its scope test (tests/api/cases.py)."""

from django.core.exceptions import ImproperlyConfigured
from rest_framework.routers import SimpleRouter
from rest_framework.viewsets import ViewSetMixin

REGISTRY: dict[str, type] = {}


class ApiRouter(SimpleRouter):
    def register(self, prefix, viewset, basename=None):
        if not issubclass(viewset, ViewSetMixin):
            raise ImproperlyConfigured(f"{viewset.__name__} is not a viewset")
        if REGISTRY.get(prefix, viewset) is not viewset:
            raise ImproperlyConfigured(f"API resource {prefix!r} is registered twice")
        REGISTRY[prefix] = viewset
        viewset.resource = prefix
        super().register(prefix, viewset, basename or prefix)


def registry() -> dict[str, type]:
    """Every registered endpoint, loading the URL configuration first if nothing has."""
    if not REGISTRY:
        from django.urls import get_resolver

        get_resolver().url_patterns  # noqa: B018 - importing the URLconf registers endpoints
    return REGISTRY


def sync_resources() -> dict[str, type]:
    """The registered read endpoints of synced tables (SyncViewSets)."""
    from .viewsets import SyncViewSet

    return {name: vs for name, vs in registry().items() if issubclass(vs, SyncViewSet)}


def resources_by_label() -> dict[str, str]:
    """Model label ('households.household') → resource name ('households')."""
    return {vs.model()._meta.label_lower: name for name, vs in sync_resources().items()}
