"""Workbench: the open findings about my team's village on the home page, and the page where
the team reports a rectification with its evidence."""

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from teams.forms import KeyedForm
from teams.workbench import home_panel, new_key, submit, work_view

from .models import Finding, FindingStatus
from .services import finding_rectify

PANEL_SIZE = 10


def open_findings(request: HttpRequest):
    return (
        Finding.objects.visible_to(request.user)
        .filter(village_id=request.work.village.pk)
        .open()
        .order_by("deadline", "id")
    )


@home_panel
def findings_panel(request: HttpRequest) -> dict:
    today = timezone.localdate()
    items = [
        {
            "text": _("%(deadline)s前 · %(category)s · %(status)s%(overdue)s")
            % {
                "deadline": f"{f.deadline:%m-%d}",
                "category": f.get_category_display(),
                "status": f.get_status_display(),
                "overdue": _("（已超期）")
                if f.deadline < today
                and f.status
                in (
                    FindingStatus.PENDING,
                    FindingStatus.RECTIFYING,
                )
                else "",
            },
            "url": reverse("work:finding", args=[f.pk]),
        }
        for f in open_findings(request)[:PANEL_SIZE]
    ]
    return {"title": _("督查发现待整改问题"), "items": items}


class RectifyForm(KeyedForm):
    evidence = forms.CharField(
        label=_l("整改情况及佐证"), max_length=4000, widget=forms.Textarea(attrs={"rows": 5})
    )


@work_view
def finding_detail(request: HttpRequest, pk: int) -> HttpResponse:
    finding = (
        Finding.objects.visible_to(request.user)
        .filter(pk=pk, village_id=request.work.village.pk)
        .select_related("inspection", "team", "cadre", "unit", "household", "village")
        .first()
    )
    if finding is None:
        raise Http404
    can_report = finding.status in (FindingStatus.PENDING, FindingStatus.RECTIFYING)
    form = RectifyForm(request.POST or None, initial={"key": new_key()})
    # A replayed submission is answered as the first was, even once the finding has moved on.
    if request.method == "POST" and form.is_valid():

        def write() -> str:
            finding_rectify(
                finding=finding, actor=request.user, evidence=form.cleaned_data["evidence"]
            )
            return reverse("work:finding", args=[finding.pk])

        response = submit(request, form, "rectify", write, _("整改情况已上报，等待验证。"))
        if response:
            return response
    return render(
        request,
        "work/finding.html",
        {"finding": finding, "form": form if can_report or form.errors else None},
    )
