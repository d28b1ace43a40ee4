"""`{% dashboard_url as url %}`: the dashboard's address for a user who may see it, else ""."""

from django import template
from django.urls import reverse

from reports.dashboard import dashboard_charts

register = template.Library()


@register.simple_tag(takes_context=True)
def dashboard_url(context) -> str:
    request = context.get("request")
    if request is None or not dashboard_charts(request.user):
        return ""
    return reverse("dashboard")
