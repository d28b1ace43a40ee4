"""The OpenAPI schema (drf-spectacular): every operation documents the one error format and
the statuses it can answer with, and the shared query parameters carry examples."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiExample, inline_serializer
from rest_framework import serializers

ErrorSerializer = inline_serializer(
    name="Error",
    fields={
        "message": serializers.CharField(help_text=_("给人看的中文说明。")),
        "extra": serializers.DictField(
            help_text=_("补充信息，如各字段的错误 fields。"), required=False
        ),
    },
)

ERRORS = {
    "400": _(
        "请求参数有误（筛选条件、游标、每页条数、查看理由等），extra.fields 给出各字段的错误。"
    ),
    "401": _("未提供或提供了无效的身份凭证（令牌或登录会话）。"),
    "403": _("角色没有查看该数据或查看完整个人信息的权限。"),
    "404": _("记录不存在，或不在您的管辖范围内（两者的回答完全相同）。"),
    "405": _("接口只读：不接受 POST、PUT、PATCH、DELETE。"),
    "410": _("删除记录的游标超过保留期，须重新全量同步。"),
    "429": _("请求过于频繁，请按 Retry-After 头所示的秒数后重试。"),
}

PARAMETER_EXAMPLES = {
    "region": "140121",
    "updated_since": "2026-01-01T00:00:00+08:00",
    "since": "2026-01-01T00:00:00+08:00",
    "reason": "省级防返贫监测数据比对",
}


class ApiAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        ok = responses.get("200")
        if ok is not None and not ok.get("description"):
            ok["description"] = str(_("成功。"))
        codes = self.view.error_statuses() if hasattr(self.view, "error_statuses") else ERRORS
        for code in codes:
            responses.setdefault(
                code,
                {
                    "description": str(ERRORS[code]),
                    "content": {
                        "application/json": {"schema": self._error_schema()},
                    },
                },
            )
        return responses

    def _error_schema(self):
        component = self.resolve_serializer(ErrorSerializer, "response")
        return component.ref

    def _get_parameters(self):
        parameters = super()._get_parameters()
        for parameter in parameters:
            if parameter["in"] == "path" and parameter["name"] == "id":
                parameter["description"] = str(_("记录ID。"))
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": 10**18 - 1}
                parameter["example"] = 120345
                continue
            self._constrain(parameter)
            example = PARAMETER_EXAMPLES.get(parameter["name"])
            if example is not None and "example" not in parameter:
                parameter["example"] = example
        return parameters

    def _constrain(self, parameter: dict) -> None:
        """State in the schema the limits the filters check (so that a client, and a
        property-based test, knows which values are valid)."""
        from .filters import MAX_ID, IdFilter, RegionFilter

        filterset = getattr(self.view, "filterset_class", None)
        f = filterset.base_filters.get(parameter["name"]) if filterset else None
        schema = parameter["schema"]
        if isinstance(f, IdFilter):
            schema.update({"type": "integer", "minimum": 1, "maximum": MAX_ID})
        elif isinstance(f, RegionFilter):
            schema["pattern"] = "^[0-9]{2,12}$"
        elif parameter["name"] == "reason":
            schema.update({"minLength": 4, "maxLength": 200})
        elif f is not None and schema.get("type") == "string" and "enum" not in schema:
            schema.setdefault("minLength", 1)  # an empty filter value is refused


def example(name: str, value: dict, *, summary=None) -> OpenApiExample:
    return OpenApiExample(name, value=value, summary=summary or name, response_only=True)
