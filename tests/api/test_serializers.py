"""The compiled row plans give exactly what the ModelSerializers (the documented contract)
give, masked and revealed, for every resource; and the documented examples fit the contract."""

import pytest
from rest_framework import serializers

from common.api.routers import registry, sync_resources
from common.api.serializers import MaskedField, SyncSerializer

from .cases import CASES

RESOURCES = sorted(sync_resources())


class FakeRequest:
    def __init__(self, user):
        self.user = user


@pytest.mark.parametrize("resource", RESOURCES)
def test_plan_matches_the_model_serializer(world, callers, resource):
    CASES[resource](world)  # the deletion feed needs its tombstones
    viewset = registry()[resource]()
    viewset.request = FakeRequest(callers["superuser"].user)
    queryset = viewset.get_queryset().order_by("pk")
    serializer_class = viewset.serializer_class
    plan = serializer_class.plan()
    assert queryset.exists(), resource
    for reveal in (False, True):
        slow = serializer_class(list(queryset), many=True, context={"reveal": reveal}).data
        fast = plan.rows(queryset.values_list(*plan.columns), reveal=reveal)
        assert [dict(row) for row in slow] == fast, (resource, reveal)


def test_masked_values_differ_from_revealed_ones(world, callers):
    viewset = registry()["members"]()
    viewset.request = FakeRequest(callers["superuser"].user)
    plan = viewset.serializer_class.plan()
    row = viewset.get_queryset().filter(pk=world.person_a.pk).values_list(*plan.columns)
    masked, revealed = plan.rows(row)[0], plan.rows(row, reveal=True)[0]
    assert revealed["id_number"] == world.person_a.id_number
    assert masked["id_number"] != revealed["id_number"]
    assert masked["id_number"][:3] == revealed["id_number"][:3]
    assert "*" * 11 in masked["id_number"]


def test_unsupported_fields_are_refused_when_the_plan_is_built():
    from households.models import Household

    class Querying(SyncSerializer):
        members = serializers.SerializerMethodField()

        class Meta:
            model = Household
            fields = ["id", "members"]

    with pytest.raises(TypeError, match="SerializerMethodField"):
        Querying.plan()

    class Nested(SyncSerializer):
        village = serializers.DictField()

        class Meta:
            model = Household
            fields = ["id", "village"]

    with pytest.raises(TypeError, match="DictField"):
        Nested.plan()


@pytest.mark.parametrize("resource", RESOURCES)
def test_documented_example_fits_the_contract(resource):
    """Every key of the serializer is in the example and back; choices are valid codes."""
    viewset = registry()[resource]
    fields = viewset.serializer_class().fields
    assert list(viewset.example) == list(fields), resource
    for key, field in fields.items():
        value = viewset.example[key]
        if value is None:
            assert field.allow_null, (resource, key)
        elif isinstance(field, serializers.ChoiceField):
            assert str(value) in field.choice_strings_to_values, (resource, key, value)
        elif isinstance(field, serializers.ListField) and isinstance(
            field.child, serializers.ChoiceField
        ):
            assert set(value) <= set(field.child.choice_strings_to_values), (resource, key)
        elif isinstance(field, MaskedField):
            assert "*" in value or value == "", (resource, key)
