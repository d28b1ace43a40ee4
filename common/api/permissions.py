"""Who may read an endpoint: an authenticated user whose role may view the resource's model.

A role grants actions, scope grants rows (DESIGN.md section 3): this class checks the role's
`view_<model>` permission; the rows come from the selector's `visible_to(user)`. The read
endpoints have no write handlers at all, so a POST, PUT, PATCH or DELETE answers 405.
"""

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission


def view_permission(model) -> str:
    return f"{model._meta.app_label}.view_{model._meta.model_name}"


class ApiAccess(BasePermission):
    message = _("您的角色不能查看该数据。")

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        return all(user.has_perm(perm) for perm in view.required_permissions())
