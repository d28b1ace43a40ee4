"""Workbench pages of presence: check-in, leave and official business, the diary, and my
compliance with the presence rule."""

import datetime as dt

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from common.errors import ApplicationError, user_message

from .compliance import DAY_LABELS, PERIOD_LABELS, presence_compliance
from .forms import CheckInForm, DiaryForm, LeaveForm
from .models import DiaryEntry, LeaveRequest, LeaveStatus
from .presence import attendance_check_in, diary_save, leave_request_cancel, leave_request_submit
from .workbench import PAGE_SIZE, new_key, submit, work_view


class WorkLoginView(auth_views.LoginView):
    template_name = "work/login.html"
    redirect_authenticated_user = True

    def get_default_redirect_url(self):
        return reverse("work:home")


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("work:login")


@require_POST
@work_view
def check_in(request: HttpRequest) -> HttpResponse:
    form = CheckInForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data

        def write() -> str:
            attendance_check_in(
                cadre=request.work.cadre,
                user=request.user,
                overnight=data["overnight"],
                latitude=data.get("latitude"),
                longitude=data.get("longitude"),
            )
            return reverse("work:home")

        response = submit(request, form, "checkin", write, _("已签到。"))
        if response:
            return response
    messages.error(request, next(iter(form.errors.values()))[0] if form.errors else _("签到失败。"))
    return redirect("work:home")


# --- leave ---------------------------------------------------------------------------------


@work_view
def leave_list(request: HttpRequest) -> HttpResponse:
    leaves = LeaveRequest.objects.visible_to(request.user).filter(cadre=request.work.cadre)[
        :PAGE_SIZE
    ]
    return render(request, "work/leave_list.html", {"leaves": leaves})


@work_view
def leave_new(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    form = LeaveForm(
        request.POST or None,
        initial={"key": new_key(), "start": today + dt.timedelta(days=1)},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data

        def write() -> str:
            leave = leave_request_submit(
                cadre=request.work.cadre,
                kind=data["kind"],
                start=data["start"],
                end=data["end"],
                reason=data["reason"],
                destination=data["destination"],
                user=request.user,
            )
            return reverse("work:leave", args=[leave.pk])

        response = submit(request, form, "leave", write, _("已提交。"))
        if response:
            return response
    return render(request, "work/form.html", {"form": form, "title": _("请假或公务外出")})


def _my_leave(request: HttpRequest, pk: int) -> LeaveRequest:
    leave = (
        LeaveRequest.objects.visible_to(request.user)
        .filter(pk=pk, cadre=request.work.cadre)
        .select_related("decided_by")
        .first()
    )
    if leave is None:
        raise Http404
    return leave


@work_view
def leave_detail(request: HttpRequest, pk: int) -> HttpResponse:
    leave = _my_leave(request, pk)
    if request.method == "POST":
        try:
            leave_request_cancel(leave=leave, cadre=request.work.cadre)
        except ApplicationError as exc:
            messages.error(request, user_message(exc))
        return redirect("work:leave", pk=leave.pk)
    cancellable = leave.status == LeaveStatus.PENDING or (
        leave.status == LeaveStatus.FILED and leave.start > timezone.localdate()
    )
    return render(request, "work/leave.html", {"leave": leave, "cancellable": cancellable})


# --- diary ---------------------------------------------------------------------------------


@work_view
def diary_list(request: HttpRequest) -> HttpResponse:
    entries = DiaryEntry.objects.visible_to(request.user).filter(cadre=request.work.cadre)[
        :PAGE_SIZE
    ]
    return render(request, "work/diary_list.html", {"entries": entries})


@work_view
def diary_new(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    initial = {"key": new_key(), "day": today}
    try:
        day = dt.date.fromisoformat(request.GET.get("day", ""))
    except ValueError:
        day = None
    if day:
        entry = (
            DiaryEntry.objects.visible_to(request.user)
            .filter(cadre=request.work.cadre, day=day)
            .first()
        )
        initial["day"] = day
        if entry:
            initial |= {
                "work_done": entry.work_done,
                "problems": entry.problems,
                "next_plan": entry.next_plan,
            }
    form = DiaryForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data

        def write() -> str:
            diary_save(
                cadre=request.work.cadre,
                day=data["day"],
                work_done=data["work_done"],
                problems=data["problems"],
                next_plan=data["next_plan"],
            )
            return reverse("work:diary")

        response = submit(request, form, "diary", write, _("日志已保存。"))
        if response:
            return response
    return render(request, "work/form.html", {"form": form, "title": _("驻村日志")})


# --- my presence -----------------------------------------------------------------------------


@work_view
def presence(request: HttpRequest) -> HttpResponse:
    """This month, its weeks and the year so far, judged by the rule in force."""
    today = timezone.localdate()
    start = today.replace(day=1) - dt.timedelta(days=today.replace(day=1).weekday())
    (result,) = presence_compliance(
        assignments=[request.work.assignment],
        start=start,
        end=today,
        today=today,
        kinds=("week", "month"),
    )
    year = presence_compliance(
        assignments=[request.work.assignment],
        start=today.replace(month=1, day=1),
        end=today,
        today=today,
        kinds=("year",),
    )[0]
    days = sorted(result.states.items(), reverse=True)
    return render(
        request,
        "work/presence.html",
        {
            "result": result,
            "year": year,
            "days": [(d, s, DAY_LABELS[s]) for d, s in days if d.month == today.month],
            "period_labels": PERIOD_LABELS,
        },
    )
