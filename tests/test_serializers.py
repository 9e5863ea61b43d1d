"""The API's model serializers decide their fields once per class (coop.serializers): each
instance's fields are the ones DRF's own ModelSerializer builds, unshared."""

import pytest
from rest_framework import serializers

from members.api import (
    ActivitySerializer,
    ApiTokenSerializer,
    LedgerEntrySerializer,
    MemberSerializer,
)

SERIALIZERS = [MemberSerializer, ActivitySerializer, LedgerEntrySerializer, ApiTokenSerializer]


@pytest.mark.parametrize("serializer_class", SERIALIZERS)
def test_fields_are_drf_s_fields(serializer_class):
    # What DRF's ModelSerializer builds for the same class.
    expected = serializers.ModelSerializer.get_fields(serializer_class())
    for _round in range(2):  # decided the first time, copied the second
        fields = serializer_class().fields
        assert list(fields) == list(expected)
        assert [repr(field) for field in fields.values()] == [
            repr(field) for field in expected.values()
        ]


def test_each_instance_has_fields_of_its_own():
    first, second = MemberSerializer(), MemberSerializer()
    for name, field in first.fields.items():
        assert field is not second.fields[name]
        assert field.parent is first and second.fields[name].parent is second
    first.fields["legal_name"].validators.append(lambda value: None)
    assert len(MemberSerializer().fields["legal_name"].validators) == len(
        second.fields["legal_name"].validators
    )


def test_a_subclass_decides_its_own_fields():
    class Narrower(MemberSerializer):
        class Meta(MemberSerializer.Meta):
            fields = ["legal_name"]
            read_only_fields = fields

    assert list(MemberSerializer().fields) != ["legal_name"]
    assert list(Narrower().fields) == ["legal_name"]
    assert list(MemberSerializer().fields) != ["legal_name"]
