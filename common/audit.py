"""Who changed what, from where: the context attached to every pghistory event.

Every tracked write runs inside an `audit_context` that names the actor and the source
(admin, web, api, task, command, import). Triggers in PostgreSQL copy the row into its event
table, so single saves, bulk updates and raw SQL are all recorded with that context.
"""

from contextlib import AbstractContextManager
from typing import Any

import pghistory


class Source:
    ADMIN = "admin"
    WEB = "web"
    API = "api"
    TASK = "task"
    COMMAND = "command"
    IMPORT = "import"


def audit_context(*, source: str, actor: Any = None, **extra: Any) -> AbstractContextManager:
    """Enter to attach actor and source to every change made inside."""
    meta: dict[str, Any] = {"source": source, **extra}
    if actor is not None and getattr(actor, "pk", None):
        meta["actor_id"] = actor.pk
        meta["actor"] = actor.get_username()
    return pghistory.context(**meta)


def audit_actor(actor: Any) -> None:
    """Name the actor of the surrounding context (for example after a login)."""
    if actor is not None and getattr(actor, "pk", None):
        pghistory.context(actor_id=actor.pk, actor=actor.get_username())


def request_source(path: str) -> str:
    if path.startswith("/admin/"):
        return Source.ADMIN
    if path.startswith("/api/"):
        return Source.API
    return Source.WEB


def client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR", "")


class AuditContextMiddleware:
    """Wrap every request that may write in an audit context (actor, source, address, url)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return self.get_response(request)
        user = getattr(request, "user", None)
        actor = user if user is not None and user.is_authenticated else None
        with audit_context(
            source=request_source(request.path),
            actor=actor,
            ip=client_ip(request),
            url=request.path,
        ):
            return self.get_response(request)
