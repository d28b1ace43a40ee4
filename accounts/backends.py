"""Authentication and permissions: model permissions come from the role, not from groups."""

from django.contrib.auth.backends import ModelBackend

from .roles import ROLE_PERMISSIONS


class RoleBackend(ModelBackend):
    """Superusers hold every permission; everyone else exactly what the role grants.

    Role grants are code (accounts.roles), so checking them costs no query.
    """

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if user_obj.is_superuser:
            return super().get_all_permissions(user_obj, obj)
        return set(ROLE_PERMISSIONS.get(getattr(user_obj, "role", ""), frozenset()))
