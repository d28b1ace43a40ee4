from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("通报与导出")

    def ready(self) -> None:
        from . import views  # noqa: F401 - adds the circulars panel to the workbench home
