"""Admin of reports."""

# --- imports ---
from . import admin_imports  # noqa: F401 - registers the Excel import admin
