"""The API's index and its answers for unknown URLs and server errors, in the one error
format (`{"message", "extra"}`), never an HTML page."""

from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from .permissions import ApiAccess
from .routers import REGISTRY


class ApiRoot(APIView):
    """`/api/v1/`: the resources this version serves, each with its list URL."""

    renderer_classes = [JSONRenderer]
    permission_classes = [ApiAccess]
    schema = None

    def required_permissions(self) -> list[str]:
        return []

    def get(self, request, *args, **kwargs):
        return Response(
            {name: reverse(f"api:{name}-list", request=request) for name in sorted(REGISTRY)}
        )


@csrf_exempt  # a POST to an unknown API address is a JSON 404 too, not the CSRF page
def api_not_found(request, *args, **kwargs) -> JsonResponse:
    return JsonResponse(
        {"message": _("接口地址不存在。"), "extra": {"path": request.path}},
        status=404,
        json_dumps_params={"ensure_ascii": False},
    )


def api_server_error() -> JsonResponse:
    return JsonResponse(
        {"message": _("服务器内部错误，请稍后重试；如持续出现请联系管理员。"), "extra": {}},
        status=500,
        json_dumps_params={"ensure_ascii": False},
    )
