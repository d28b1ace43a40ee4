from . import admin_exports  # noqa: F401 - the export action, progress page and my exports
