from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommonConfig(AppConfig):
    name = "common"
    verbose_name = _("公共")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from .dbfunctions import install_trigger_functions

        post_migrate.connect(install_trigger_functions, dispatch_uid="common.trigger_functions")
