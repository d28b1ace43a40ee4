"""Workbench pages of households: home, search, the household, visits and incomes.

Every page reads through the selectors, from `visible_to(user)` and the village of the
user's active assignment: another village's household is a 404, like a missing id.
"""

import datetime as dt

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from teams.models import Attendance
from teams.workbench import HOME_PANELS, PAGE_SIZE, new_key, submit, work_view

from .forms import IncomeForm, VisitForm
from .models import Household, IncomeRecord, Pairing, VisitLog, last_month_start
from .selectors import coverage_of, due_visits, missing_income, work_household_list
from .services import INCOME_FIELDS, income_record_save, visit_record


def _ids(request: HttpRequest) -> dict:
    work = request.work
    return {"user": request.user, "village_id": work.village.pk, "cadre_id": work.cadre.pk}


@work_view
def home(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    ids = _ids(request)
    attendance = Attendance.objects.filter(cadre=request.work.cadre, day=today).first()
    due = due_visits(**ids, today=today)
    coverage = coverage_of(**ids, today=today)
    missing = missing_income(**ids, today=today)
    context = {
        "today": today,
        "attendance": attendance,
        "checkin_key": new_key(),
        "due": due[:PAGE_SIZE],
        "due_count": coverage["total"] - coverage["visited_this_month"],
        "coverage": coverage,
        "coverage_pct": round(100 * coverage["visited_by_me"] / coverage["total"])
        if coverage["total"]
        else 100,
        "missing": missing[:PAGE_SIZE],
        "missing_month": last_month_start(today),
        "panels": [p for p in (panel(request) for panel in HOME_PANELS) if p],
    }
    return render(request, "work/home.html", context)


@work_view
def household_search(request: HttpRequest) -> HttpResponse:
    q = (request.GET.get("q") or "").strip()[:32]
    households = work_household_list(**_ids(request), today=timezone.localdate())
    if q:
        field = "code__startswith" if q[:1].isdigit() else "head_name__startswith"
        households = households.filter(**{field: q})
    households = households.order_by("-mine", "code")[: PAGE_SIZE * 2]
    return render(request, "work/households.html", {"households": households, "q": q})


def _household(request: HttpRequest, pk: int) -> Household:
    household = (
        work_household_list(**_ids(request), today=timezone.localdate())
        .select_related("status")
        .filter(pk=pk)
        .first()
    )
    if household is None:
        raise Http404
    return household


@work_view
def household_detail(request: HttpRequest, pk: int) -> HttpResponse:
    household = _household(request, pk)
    members = household.members.filter(left_on__isnull=True).order_by("relation", "birth_date")
    visits = household.visits.select_related("cadre")[:5]
    incomes = household.incomes.order_by("-month")[:3]
    pairing = household.pairings.filter(end__isnull=True).select_related("cadre").first()
    return render(
        request,
        "work/household.html",
        {
            "household": household,
            "members": members,
            "visits": visits,
            "incomes": incomes,
            "pairing": pairing,
            "today": timezone.localdate(),
        },
    )


@work_view
def visit_new(request: HttpRequest, pk: int) -> HttpResponse:
    household = _household(request, pk)
    form = VisitForm(
        request.POST or None,
        request.FILES or None,
        initial={"key": new_key(), "visited_on": timezone.localdate()},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data

        def write() -> str:
            visit = visit_record(
                household=household,
                cadre=request.work.cadre,
                visited_on=data["visited_on"],
                kind=data["kind"],
                seen=data["seen"],
                problems=data["problems"],
                requests=data["requests"],
                follow_up=data["follow_up"],
                photo=data.get("photo"),
                latitude=data.get("latitude"),
                longitude=data.get("longitude"),
                client_key=data["key"],
            )
            return reverse("work:visit", args=[visit.pk])

        response = submit(request, form, "visit", write, _("走访已记录。"))
        if response:
            return response
    return render(request, "work/visit_form.html", {"form": form, "household": household})


def _visit(request: HttpRequest, pk: int) -> VisitLog:
    visit = (
        VisitLog.objects.visible_to(request.user)
        .filter(pk=pk, household__village_id=request.work.village.pk)
        .select_related("household", "cadre")
        .first()
    )
    if visit is None:
        raise Http404
    return visit


@work_view
def visit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "work/visit.html", {"visit": _visit(request, pk)})


@work_view
def visit_photo(request: HttpRequest, pk: int) -> HttpResponse:
    """Photos are served only through the scope check, never from a public media URL."""
    visit = _visit(request, pk)
    if not visit.photo:
        raise Http404
    response = FileResponse(visit.photo.open("rb"))
    response["Cache-Control"] = "private, max-age=86400"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@work_view
def visit_list(request: HttpRequest) -> HttpResponse:
    visits = (
        VisitLog.objects.visible_to(request.user)
        .filter(cadre=request.work.cadre)
        .select_related("household")[:PAGE_SIZE]
    )
    return render(request, "work/visits.html", {"visits": visits})


def _months(today: dt.date) -> list[tuple[str, str]]:
    this = today.replace(day=1)
    last = last_month_start(today)
    return [(last.isoformat(), f"{last:%Y-%m}"), (this.isoformat(), f"{this:%Y-%m}")]


@work_view
def income_new(request: HttpRequest, pk: int) -> HttpResponse:
    """Register a paired household's income of a month, the month before shown beside."""
    household = _household(request, pk)
    today = timezone.localdate()
    mine = Pairing.objects.filter(
        household=household, cadre=request.work.cadre, end__isnull=True
    ).exists()
    if not mine:
        return render(
            request,
            "work/message.html",
            {"title": _("不能登记"), "text": _("只能登记本人结对帮扶户的收入。")},
            status=403,
        )
    months = _months(today)
    chosen = request.POST.get("month") or request.GET.get("month") or months[0][0]
    try:
        month = dt.date.fromisoformat(chosen).replace(day=1)
    except ValueError:
        month = dt.date.fromisoformat(months[0][0])
    previous_month = (month - dt.timedelta(days=1)).replace(day=1)
    records = {
        r.month: r
        for r in IncomeRecord.objects.filter(household=household, month__in=[month, previous_month])
    }
    current, previous = records.get(month), records.get(previous_month)
    initial = {"key": new_key(), "month": month.isoformat()}
    if current:
        initial |= {f: getattr(current, f) for f in INCOME_FIELDS}
    form = IncomeForm(request.POST or None, initial=initial, months=months)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data

        def write() -> str:
            income_record_save(
                household=household,
                month=dt.date.fromisoformat(data["month"]),
                **{f: data[f] for f in INCOME_FIELDS},
            )
            return reverse("work:household", args=[household.pk])

        response = submit(request, form, "income", write, _("收入已登记。"))
        if response:
            return response
    rows = [(form[f], getattr(previous, f) if previous else None) for f in INCOME_FIELDS]
    return render(
        request,
        "work/income_form.html",
        {
            "form": form,
            "household": household,
            "rows": rows,
            "previous_month": previous_month,
            "has_previous": previous is not None,
        },
    )
