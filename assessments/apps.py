from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssessmentsConfig(AppConfig):
    name = "assessments"
    verbose_name = _("督查考核")

    def ready(self) -> None:
        from . import views  # noqa: F401 - adds the open-findings panel to the workbench home
