"""Reads of common's own tables."""

from typing import Any

from django.db.models import Case, CharField, Value, When

from .models import Tombstone, TombstoneQuerySet


def tombstone_list(*, user: Any, resources: dict[str, str]) -> TombstoneQuerySet:
    """Deletions in the user's scope of the tables named in `resources` (model label →
    resource name), each with its resource name."""
    if not resources:
        return Tombstone.objects.none()
    return (
        Tombstone.objects.visible_to(user)
        .filter(model__in=list(resources))
        .annotate(
            resource=Case(
                *(When(model=label, then=Value(name)) for label, name in resources.items()),
                output_field=CharField(),
            )
        )
    )
