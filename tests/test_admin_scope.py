"""The scope walk: every registered ModelAdmin, as county A's official, shows nothing of
county B anywhere — changelist, change and history views, FK choices, autocomplete, list
filters, and actions. A new ModelAdmin without the scoping mixin, or without objects in this
walk, fails here."""

import pytest
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.forms import ModelChoiceField
from django.forms.models import model_to_dict
from django.urls import reverse

from common.admin import ScopedAdminMixin, SystemAdminMixin


def pairs(world):
    """(in scope, out of scope) for every scoped model in the admin."""
    from accounts.models import User
    from assessments.models import (
        Assessment,
        Escalation,
        Finding,
        IndicatorScheme,
        Inspection,
        MonthlyRanking,
        YearlyScheme,
    )
    from households.models import (
        Household,
        IncomeLine,
        IncomeRecord,
        Measure,
        Member,
        Monitoring,
        Pairing,
        ReportBand,
        VisitLog,
    )
    from reports.models import Circular, CircularRule, ExportJob, ImportJob
    from teams.models import (
        Assignment,
        Attendance,
        Cadre,
        DiaryEntry,
        DispatchingUnit,
        LeaveRequest,
        PresenceRule,
        WorkTeam,
    )
    from villages.models import Region, Village

    return {
        Household: (world.household_a, world.household_b),
        Member: (world.person_a, world.person_b),
        IncomeRecord: (world.income_a, world.income_b),
        IncomeLine: (world.line_a, world.line_b),
        ReportBand: (world.band_a, world.band_b),
        Monitoring: (world.monitoring_a, world.monitoring_b),
        Measure: (world.measure_a, world.measure_b),
        Pairing: (world.pairing_a, world.pairing_b),
        Region: (world.village_a.region, world.village_b.region),
        Village: (world.village_a, world.village_b),
        DispatchingUnit: (world.unit_a, world.unit_b),
        WorkTeam: (world.team_a, world.team_b),
        Cadre: (world.cadre_a, world.cadre_b),
        Assignment: (world.assignment_a, world.assignment_b),
        User: (world.township_official_a, world.official_b),
        PresenceRule: (world.rule_a, world.rule_b),
        Attendance: (world.attendance_a, world.attendance_b),
        LeaveRequest: (world.leave_a, world.leave_b),
        DiaryEntry: (world.diary_a, world.diary_b),
        VisitLog: (world.visit_a, world.visit_b),
        Inspection: (world.inspection_a, world.inspection_b),
        Finding: (world.finding_a, world.finding_b),
        IndicatorScheme: (world.scheme_a, world.scheme_b),
        MonthlyRanking: (world.ranking_a, world.ranking_b),
        Escalation: (world.escalation_a, world.escalation_b),
        YearlyScheme: (world.yearly_scheme_a, world.yearly_scheme_b),
        Assessment: (world.assessment_a, world.assessment_b),
        CircularRule: (world.circular_rule_a, world.circular_rule_b),
        Circular: (world.circular_a, world.circular_b),
        ExportJob: (world.export_a, world.export_b),
        ImportJob: (world.import_a, world.import_b),
    }


def out_of_scope_objects(world):
    """Every object of county B, by model (a filter or choice must offer none of them)."""
    objs = {model: {b.pk} for model, (_a, b) in pairs(world).items()}
    from villages.models import Region

    objs[Region] |= {world.county_b.pk, world.township_b.pk, world.village_b.region_id}
    return objs


def url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def snapshot(obj):
    obj = type(obj)._base_manager.get(pk=obj.pk)
    return dict(model_to_dict(obj).items())


def test_every_model_admin_is_scoped_or_system_only(world):
    for model, model_admin in admin.site._registry.items():
        assert isinstance(model_admin, ScopedAdminMixin | SystemAdminMixin), (
            f"{model.__name__} admin must use ScopedAdminMixin (or SystemAdminMixin)"
        )
        if isinstance(model_admin, ScopedAdminMixin):
            assert model in pairs(world), f"add {model.__name__} to the scope walk's pairs()"


def scoped_admins():
    return [(m, a) for m, a in admin.site._registry.items() if isinstance(a, ScopedAdminMixin)]


@pytest.mark.parametrize(
    ("model", "model_admin"), scoped_admins(), ids=lambda x: getattr(x, "__name__", "")
)
def test_scope_walk(client, world, model, model_admin):
    client.force_login(world.official_a)
    inside, outside = pairs(world)[model]
    foreign = out_of_scope_objects(world)

    # Changelist: A's object listed, B's absent.
    response = client.get(url(model, "changelist"))
    assert response.status_code == 200
    listed = {obj.pk for obj in response.context["cl"].result_list}
    assert inside.pk in listed
    assert outside.pk not in listed

    # A search for B's name finds nothing either.
    response = client.get(url(model, "changelist"), {"q": str(outside)})
    assert outside.pk not in {obj.pk for obj in response.context["cl"].result_list}

    # List filters offer no choice of county B.
    for spec in response.context["cl"].filter_specs:
        related = getattr(getattr(spec, "field", None), "related_model", None)
        related = related or getattr(spec, "choice_model", None)
        if related in foreign:
            values = {str(value) for value, *_rest in spec.lookup_choices}
            assert not values & {str(pk) for pk in foreign[related]}, spec.title

    # Change view and history of B answer exactly like a missing id.
    missing = client.get(url(model, "change", 987654321))
    response = client.get(url(model, "change", outside.pk))
    assert (response.status_code, response.get("Location")) == (
        missing.status_code,
        missing.get("Location"),
    )
    assert client.get(url(model, "change", inside.pk)).status_code == 200
    missing = client.get(url(model, "history", 987654321))
    assert client.get(url(model, "history", outside.pk)).status_code == missing.status_code
    assert client.get(url(model, "history", inside.pk)).status_code == 200

    # FK and M2M choices of the add form offer nothing of county B.
    response = client.get(url(model, "add"))
    if response.status_code == 200:
        forms = [response.context["adminform"].form]
        forms += [i.formset.empty_form for i in response.context["inline_admin_formsets"]]
        for form in forms:
            for name, field in form.fields.items():
                if name == form._meta.model._meta.pk.name:
                    continue  # an inline's hidden id resolves among the parent's own rows
                if isinstance(field, ModelChoiceField) and field.queryset.model in foreign:
                    offered = set(field.queryset.values_list("pk", flat=True))
                    assert not offered & foreign[field.queryset.model], name

    # Autocomplete results offer nothing of county B.
    for field_name in model_admin.get_autocomplete_fields(None):
        field = model._meta.get_field(field_name)
        response = client.get(
            reverse("admin:autocomplete"),
            {
                "app_label": model._meta.app_label,
                "model_name": model._meta.model_name,
                "field_name": field_name,
                "term": "",
            },
        )
        assert response.status_code == 200, field_name
        ids = {int(r["id"]) for r in response.json()["results"]}
        assert ids, f"autocomplete {field_name} returned nothing in scope"
        assert not ids & foreign[field.related_model], field_name

    # Actions posted with B's id change nothing (intermediate pages confirmed too).
    before = snapshot(outside)
    request = response.wsgi_request
    request.user = world.official_a
    for action in model_admin.get_actions(request):
        for extra in ({}, {"apply": "1", "reason": "越权", "ended_on": "2026-06-01"}):
            client.post(
                url(model, "changelist"),
                {"action": action, ACTION_CHECKBOX_NAME: [outside.pk], **extra},
            )
    assert snapshot(outside) == before


def test_system_admins_are_closed_to_county_staff(client, world):
    client.force_login(world.official_a)
    for model, model_admin in admin.site._registry.items():
        if isinstance(model_admin, SystemAdminMixin):
            assert client.get(url(model, "changelist")).status_code == 403, model.__name__


def test_team_member_has_no_admin(client, world):
    client.force_login(world.member_a)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302


def test_township_official_sees_only_their_township(client, world):
    from tests import factories as f
    from villages.models import Level

    other_township = f.region("140121101000", "柳杜乡", Level.TOWNSHIP, world.county_a)
    other_village = f.village("140121101201", "西楚王村", other_township)
    client.force_login(world.township_official_a)
    from villages.models import Village

    response = client.get(url(Village, "changelist"))
    listed = {obj.pk for obj in response.context["cl"].result_list}
    assert listed == {world.village_a.pk}
    assert other_village.pk not in listed
