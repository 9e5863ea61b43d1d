"""What the API's serializers share: model fields worked out once per class."""

import copy

from rest_framework import serializers


class ModelSerializer(serializers.ModelSerializer):
    """DRF's ModelSerializer, deciding its fields once per class instead of once per instance.

    DRF inspects the model on every instantiation (each field's type, validators, choices and
    labels), which costs more than serializing a page of rows. Here the first instance's fields
    are kept, unbound, and each instance gets copies of them, made as DRF copies the fields
    declared on a class (``Field.__deepcopy__``: a new field from the same arguments). A
    subclass whose fields depend on the instance (its context, the request) must choose them
    in its own ``get_fields`` after calling this one, never in ``get_field_names``,
    ``build_field`` or ``get_extra_kwargs``.
    """

    def get_fields(self):
        serializer_class = type(self)
        # Looked up on the class itself: a subclass has fields of its own.
        fields = serializer_class.__dict__.get("_coop_fields")
        if fields is None:
            fields = super().get_fields()
            serializer_class._coop_fields = fields
        return copy.deepcopy(fields)
