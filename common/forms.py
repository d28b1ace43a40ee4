"""Form fields for protected personal data (ID numbers and phones)."""

from django.utils.translation import gettext as _

from .people import mask_id_number, mask_phone, validate_id_number, validate_phone

KINDS = {
    "id_number": (validate_id_number, mask_id_number),
    "phone": (validate_phone, mask_phone),
}


class ProtectedFieldsMixin:
    """For a ModelForm with encrypted values: the browser never receives them.

    `protected_fields` maps a form field to its kind ("id_number" or "phone"). The field is
    never pre-filled; the current value is shown masked in the help text; a value typed in is
    validated and normalised; an empty one keeps what is stored. A new record needs its ID
    number.
    """

    protected_fields: dict[str, str] = {}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, kind in self.protected_fields.items():
            self.initial[name] = ""
            current = getattr(self.instance, name, "") if self.instance.pk else ""
            if current:
                self.fields[name].help_text = _("当前：%s；留空则不修改。") % KINDS[kind][1](
                    current
                )
            elif kind == "id_number" and not self.instance.pk:
                self.fields[name].required = True

    def _clean_protected(self, name: str) -> str:
        value = self.cleaned_data.get(name) or ""
        return KINDS[self.protected_fields[name]][0](value) if value else ""

    def clean_id_number(self) -> str:
        return self._clean_protected("id_number")

    def clean_phone(self) -> str:
        return self._clean_protected("phone")

    def clean_contact_phone(self) -> str:
        return self._clean_protected("contact_phone")
