"""Workbench forms of visits and incomes. The services check the rules."""

from django import forms
from django.utils.translation import gettext_lazy as _

from teams.forms import DATE, TEXT, KeyedForm

from .models import VisitKind


class VisitForm(KeyedForm):
    visited_on = forms.DateField(label=_("走访日期"), widget=DATE)
    kind = forms.ChoiceField(
        label=_("方式"), choices=VisitKind.choices, widget=forms.RadioSelect, initial="in_person"
    )
    seen = forms.CharField(
        label=_("走访情况"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4})
    )
    problems = forms.CharField(
        label=_("发现问题"), max_length=4000, required=False, widget=forms.Textarea(attrs=TEXT)
    )
    requests = forms.CharField(
        label=_("群众诉求"), max_length=4000, required=False, widget=forms.Textarea(attrs=TEXT)
    )
    follow_up = forms.CharField(
        label=_("跟进措施"), max_length=4000, required=False, widget=forms.Textarea(attrs=TEXT)
    )
    photo = forms.FileField(
        label=_("照片（可选）"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )
    latitude = forms.DecimalField(required=False, widget=forms.HiddenInput)
    longitude = forms.DecimalField(required=False, widget=forms.HiddenInput)


AMOUNT = {"min_value": 0, "max_digits": 12, "decimal_places": 2, "initial": 0}


class IncomeForm(KeyedForm):
    month = forms.ChoiceField(label=_("月份"))
    wage = forms.DecimalField(label=_("工资性收入"), **AMOUNT)
    business = forms.DecimalField(label=_("生产经营性收入"), **AMOUNT)
    property_income = forms.DecimalField(label=_("财产性收入"), **AMOUNT)
    transfer = forms.DecimalField(label=_("转移性收入"), **AMOUNT)
    production_cost = forms.DecimalField(label=_("生产经营费用"), **AMOUNT)

    def __init__(self, *args, months: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["month"].choices = months
