"""makemessages that also extracts `_g(...)`: the modules that need both gettext_lazy
(`_`) and gettext (`_g`) import the second under that name."""

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    xgettext_options = [*makemessages.Command.xgettext_options, "--keyword=_g"]
