"""Workbench: the published circulars that name my team — a panel on the home page and the
page of one circular with my team's entry. A draft, a superseded circular, or a circular
that does not name my team is a 404, like a missing id."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from teams.workbench import home_panel, work_view

from .models import EntryKind
from .selectors import work_entries

PANEL_SIZE = 5


@home_panel
def circulars_panel(request: HttpRequest) -> dict | None:
    entries = work_entries(user=request.user, team_id=request.work.team.pk)[:PANEL_SIZE]
    items = [
        {
            "text": _("%(number)s · %(period)s · 列入%(kind)s")
            % {
                "number": e.circular.number,
                "period": e.circular.period_label,
                "kind": e.get_kind_display(),
            },
            "url": reverse("work:circular", args=[e.circular_id]),
        }
        for e in entries
    ]
    if not items:
        return None  # nothing to show: no panel
    return {"title": _("红黑榜通报"), "items": items}


@work_view
def circular_detail(request: HttpRequest, pk: int) -> HttpResponse:
    entry = work_entries(user=request.user, team_id=request.work.team.pk).filter(circular_id=pk)
    entry = entry.first()
    if entry is None:
        raise Http404
    return render(
        request,
        "work/circular.html",
        {"circular": entry.circular, "entry": entry, "red": entry.kind == EntryKind.RED},
    )
