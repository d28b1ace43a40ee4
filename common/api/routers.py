"""Each app's `urls.py` registers its endpoints on its own ApiRouter; the registry below is
the list of every endpoint, which the deletion feed (resource names) and the tests (the scope
walk, the schema checks) read."""

from django.core.exceptions import ImproperlyConfigured
from rest_framework.routers import SimpleRouter

REGISTRY: dict[str, type] = {}


class ApiRouter(SimpleRouter):
    def register(self, prefix, viewset, basename=None):
        from .viewsets import SyncViewSet

        if not issubclass(viewset, SyncViewSet):
            raise ImproperlyConfigured(f"{viewset.__name__} is not a SyncViewSet")
        if REGISTRY.get(prefix, viewset) is not viewset:
            raise ImproperlyConfigured(f"API resource {prefix!r} is registered twice")
        REGISTRY[prefix] = viewset
        viewset.resource = prefix
        super().register(prefix, viewset, basename or prefix)


def resources_by_label() -> dict[str, str]:
    """Model label ('households.household') → resource name ('households')."""
    return {vs.model()._meta.label_lower: prefix for prefix, vs in REGISTRY.items()}


def registry() -> dict[str, type]:
    """Every registered endpoint, loading the URL configuration first if nothing has."""
    if not REGISTRY:
        from django.urls import get_resolver

        get_resolver().url_patterns  # noqa: B018 - importing the URLconf registers endpoints
    return REGISTRY
