"""Model fields for protected personal data: encrypted value + keyed hash beside it."""

from collections.abc import Callable

from django.db import models

from . import crypto


class EncryptedCharField(models.TextField):
    """Holds a value encrypted in the database and in clear in Python.

    The database never sees the clear value, so it cannot be filtered on: look values up
    through the `KeyedHashField` beside it.
    """

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return crypto.decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(value)

    def get_lookup(self, lookup_name):
        # "df" (IS DISTINCT FROM) compares stored ciphertexts in trigger conditions (the audit
        # trigger's "did anything change"); it never compares a clear value.
        if lookup_name not in ("isnull", "df"):
            raise TypeError(f"Encrypted field {self.name} cannot be filtered with {lookup_name}.")
        return super().get_lookup(lookup_name)


class KeyedHashField(models.CharField):
    """HMAC-SHA256 of another field's (normalised) value, computed on every save.

    Computed in `pre_save`, so `save()` and `bulk_create()` keep it in step; `QuerySet.update()`
    does not, which is why protected values are changed only through services.
    """

    def __init__(
        self, *args, source: str = "", normalize: Callable[[str], str] | None = None, **kwargs
    ):
        self.source = source
        self.normalize = normalize
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        if kwargs.get("editable") is False:
            del kwargs["editable"]
        if kwargs.get("max_length") == 64:
            del kwargs["max_length"]
        return name, path, args, kwargs

    def pre_save(self, model_instance, add):
        raw = getattr(model_instance, self.source)
        value = None
        if raw:
            value = crypto.keyed_hash(self.normalize(raw) if self.normalize else raw)
        if value is None and not self.null:
            value = ""
        setattr(model_instance, self.attname, value)
        return value
