"""Admin of the reports app, one module per part."""

from . import admin_circulars  # noqa: F401 - registers the circulars' admin
