"""Admin of the reports app, one module per part."""

from . import (
    admin_circulars,  # noqa: F401 - registers the circulars' admin
    admin_exports,  # noqa: F401 - the export action, progress page and my exports
    admin_imports,  # noqa: F401 - registers the Excel import admin
)
