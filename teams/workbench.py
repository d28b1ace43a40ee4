"""The team workbench (/work/): who is working, where, and the plumbing every page shares.

A workbench user is a team leader or member whose login is linked to a cadre with an active
assignment; the pages show the village of that assignment only (the user's region is that
village, so `visible_to(user)` and the village agree).
"""

import functools
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from accounts.roles import TEAM_ROLES
from common.errors import ApplicationError, user_message, validation_messages
from common.idempotency import parse_key, submit_once
from villages.models import Village

from .models import Assignment, AssignmentStatus, Cadre, WorkTeam

LOGIN_URL = "work:login"


@dataclass(frozen=True)
class Work:
    assignment: Assignment

    @property
    def cadre(self) -> Cadre:
        return self.assignment.cadre

    @property
    def team(self) -> WorkTeam:
        return self.assignment.team

    @property
    def village(self) -> Village:
        return self.assignment.team.village


def work_for(user) -> Work | None:
    """The user's active assignment (one query), or None."""
    if not user.is_authenticated or user.role not in TEAM_ROLES:
        return None
    assignment = (
        Assignment.objects.filter(cadre__user=user, status=AssignmentStatus.ACTIVE)
        .select_related("cadre", "team", "team__village")
        .first()
    )
    return Work(assignment) if assignment else None


def work_view(view: Callable) -> Callable:
    """Login to the workbench's own page; a user without an active assignment is told so."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse(LOGIN_URL))
        work = work_for(request.user)
        if work is None:
            return render(request, "work/no_assignment.html", status=403)
        request.work = work
        return view(request, *args, **kwargs)

    return wrapper


def new_key() -> str:
    """The key a form carries from the page it was served in (one per page load)."""
    return str(uuid.uuid4())


def form_errors(form, exc: Exception) -> None:
    """Put a service's refusal on the form: field errors on their fields, the rest on top."""
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        _message, extra = validation_messages(exc)
        for name, texts in extra["fields"].items():
            for text in texts:
                form.add_error(name if name in form.fields else None, text)
    else:
        form.add_error(None, user_message(exc))


def submit(request: HttpRequest, form, kind: str, write: Callable[[], str], done: str):
    """Run a validated form's write exactly once for its key; answer with a redirect.

    A replay of the same submission gets the first answer (the same redirect and message).
    Returns the redirect, or None when the service refused (the errors are on the form).
    """
    try:
        key = parse_key(form.cleaned_data.get("key"))
        answer, _replayed = submit_once(user=request.user, key=key, kind=kind, write=write)
    except (ValidationError, ApplicationError) as exc:
        form_errors(form, exc)
        return None
    messages.success(request, done)
    return redirect(answer)


PAGE_SIZE = 20


# Panels that apps to the right (assessments, reports) add to the home page without the
# workbench importing them: each is a function (request) -> {"title", "items", "url"} or None.
HOME_PANELS: list[Callable[[HttpRequest], dict | None]] = []


def home_panel(func: Callable[[HttpRequest], dict | None]) -> Callable:
    HOME_PANELS.append(func)
    return func
