"""Workbench forms of presence, leave and the diary. The services check the rules."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import AbsenceKind

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TEXT = {"rows": 3}


class KeyedForm(forms.Form):
    """Every workbench form carries the key of its submission (see common.idempotency)."""

    key = forms.UUIDField(widget=forms.HiddenInput)


class CheckInForm(KeyedForm):
    overnight = forms.BooleanField(label=_("今晚住村"), required=False, initial=True)
    latitude = forms.DecimalField(required=False, widget=forms.HiddenInput)
    longitude = forms.DecimalField(required=False, widget=forms.HiddenInput)


class LeaveForm(KeyedForm):
    kind = forms.ChoiceField(label=_("类型"), choices=AbsenceKind.choices)
    start = forms.DateField(label=_("开始日期"), widget=DATE)
    end = forms.DateField(label=_("结束日期"), widget=DATE)
    reason = forms.CharField(label=_("事由"), max_length=500, widget=forms.Textarea(attrs=TEXT))
    destination = forms.CharField(label=_("去向"), max_length=128, required=False)


class DiaryForm(KeyedForm):
    day = forms.DateField(label=_("日期"), widget=DATE)
    work_done = forms.CharField(
        label=_("工作内容"), max_length=4000, widget=forms.Textarea(attrs={"rows": 5})
    )
    problems = forms.CharField(
        label=_("存在问题"), max_length=4000, required=False, widget=forms.Textarea(attrs=TEXT)
    )
    next_plan = forms.CharField(
        label=_("下周计划"), max_length=4000, required=False, widget=forms.Textarea(attrs=TEXT)
    )
