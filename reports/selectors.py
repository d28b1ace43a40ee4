"""Every read of circulars that a page, file or task uses; all start from visible_to()."""

from typing import Any

from django.db.models import Count, Q
from django.http import Http404

from .models import Circular, CircularEntry, CircularQuerySet, CircularStatus, EntryKind


def circular_list(*, user: Any) -> CircularQuerySet:
    """Circulars in scope with their county and the length of both lists (one query)."""
    return (
        Circular.objects.visible_to(user)
        .select_related("county")
        .annotate(
            red=Count("entries", filter=Q(entries__kind=EntryKind.RED)),
            black=Count("entries", filter=Q(entries__kind=EntryKind.BLACK)),
        )
    )


def circular_get(*, user: Any, pk: Any) -> Circular:
    """A circular in scope, or 404 exactly like a missing id."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    circular = (
        Circular.objects.visible_to(user)
        .select_related("county", "supersedes", "published_by")
        .filter(pk=pk)
        .first()
    )
    if circular is None:
        raise Http404
    return circular


def circular_lists(circular: Circular) -> tuple[list[CircularEntry], list[CircularEntry]]:
    """The red list and the black list of a circular, each in its order (one query)."""
    entries = list(circular.entries.order_by("kind", "order"))
    red = [e for e in entries if e.kind == EntryKind.RED]
    black = [e for e in entries if e.kind == EntryKind.BLACK]
    return red, black


def work_entries(*, user: Any, team_id: int):
    """The entries of a team on published circulars, newest first (the workbench's view:
    drafts and superseded circulars are never shown)."""
    return (
        CircularEntry.objects.visible_to(user)
        .filter(team_id=team_id, circular__status=CircularStatus.PUBLISHED)
        .select_related("circular")
        .order_by("-circular__published_on", "-circular_id")
    )
