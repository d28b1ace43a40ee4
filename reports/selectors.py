"""Every read of circulars that a page, file or task uses; all start from visible_to()."""

from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import CharField, Count, OuterRef, Q
from django.db.models.functions import Cast, JSONObject
from django.http import Http404

from .models import Circular, CircularEntry, CircularQuerySet, CircularStatus, EntryKind

# What the provincial API serves of the circulars: the published ones and those a correction
# superseded. A draft is the county's working copy (rebuilt, reworded, discarded); it is
# official only once published, and a published circular never becomes a draft again or
# disappears, so a mirror never holds a row it should drop.
PUBLIC_STATUSES = (CircularStatus.PUBLISHED, CircularStatus.SUPERSEDED)


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


def circular_published_list(*, user: Any) -> CircularQuerySet:
    """Published and superseded circulars in scope, each with its entries (`entry_rows`:
    the red list then the black list, each in its order) built as JSON rows in the same
    query, so that a page of circulars is one query whatever its size."""
    entries = (
        CircularEntry.objects.filter(circular=OuterRef("pk"))
        .order_by("-kind", "order")  # red before black
        .values(
            row=JSONObject(
                id="id",
                kind="kind",
                order="order",
                team="team_id",
                team_name="team_name",
                village_name="village_name",
                township_name="township_name",
                unit_name="unit_name",
                rank="rank",
                of="of",
                score=Cast("score", CharField()),
                metrics="metrics",
                findings="findings",
                by_rank="by_rank",
                by_finding="by_finding",
                facts="facts",
                consequence="consequence",
            )
        )
    )
    return (
        Circular.objects.visible_to(user)
        .filter(status__in=PUBLIC_STATUSES)
        .annotate(entry_rows=ArraySubquery(entries))
    )
