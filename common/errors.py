"""Errors: ValidationError for bad input, ApplicationError for a broken business rule.

One DRF exception handler renders both as `{"message": ..., "extra": {...}}` in Chinese.
"""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler


class ApplicationError(Exception):
    """A business rule refused the operation; `message` is shown to the user as is."""

    def __init__(self, message: str, extra: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


def validation_messages(exc: DjangoValidationError) -> tuple[str, dict[str, Any]]:
    """A one-line summary and a field -> messages map of a Django ValidationError."""
    if hasattr(exc, "error_dict"):
        fields = {k: [str(m) for e in v for m in e.messages] for k, v in exc.error_dict.items()}
        first = next(iter(fields.values()))[0] if fields else _("输入有误。")
        return first, {"fields": fields}
    return "；".join(exc.messages), {}


def api_exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        message, extra = validation_messages(exc)
        return Response({"message": message, "extra": extra}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, ApplicationError):
        return Response(
            {"message": exc.message, "extra": exc.extra}, status=status.HTTP_400_BAD_REQUEST
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(_("未找到。"))
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(_("没有权限执行此操作。"))
    response = exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(exc, exceptions.ValidationError):
        response.data = {"message": _("输入有误。"), "extra": {"fields": data}}
    else:
        detail = data.get("detail", "") if isinstance(data, dict) else data
        response.data = {"message": str(detail), "extra": {}}
    return response


def user_message(exc: Exception) -> str:
    """The Chinese message to show for a refused operation."""
    if isinstance(exc, ApplicationError):
        return exc.message
    if isinstance(exc, DjangoValidationError):
        return validation_messages(exc)[0]
    return str(exc)
