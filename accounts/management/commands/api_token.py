"""Issue, list and revoke API tokens of machine clients (the security administrator's admin
page does the same).

    python manage.py api_token issue --username sx_province --name 省防返贫监测系统 [--days 365]
    python manage.py api_token list
    python manage.py api_token revoke --prefix zc_AbCdEfGh

The key is printed once, when issued; only its hash is kept.
"""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.models import ApiToken, User
from accounts.services import api_token_issue, api_token_revoke
from common.audit import Source, audit_context
from common.errors import ApplicationError


class Command(BaseCommand):
    help = "Issue, list or revoke API tokens of machine clients."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        issue = sub.add_parser("issue")
        issue.add_argument("--username", required=True)
        issue.add_argument("--name", required=True)
        issue.add_argument("--days", type=int, default=None, help="valid for this many days")
        sub.add_parser("list")
        revoke = sub.add_parser("revoke")
        revoke.add_argument("--prefix", required=True)

    def handle(self, *args, action, **options):
        with audit_context(source=Source.COMMAND, command="api_token"):
            getattr(self, f"do_{action}")(**options)

    def do_issue(self, *, username, name, days, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user {username}")
        expires = timezone.now() + dt.timedelta(days=days) if days else None
        try:
            token, key = api_token_issue(user=user, name=name, actor=None, expires_at=expires)
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"issued {token.prefix} for {username}; the key (shown once):")
        self.stdout.write(key)

    def do_list(self, **options):
        for token in ApiToken.objects.select_related("user").order_by("created_at"):
            state = "revoked" if token.revoked_at else ("ok" if token.is_usable else "expired")
            self.stdout.write(
                f"{token.prefix}\t{token.user.username}\t{token.name}\t{state}\t"
                f"last used {token.last_used_at or '-'}"
            )

    def do_revoke(self, *, prefix, **options):
        tokens = list(ApiToken.objects.filter(prefix=prefix))
        if len(tokens) != 1:
            raise CommandError(f"{len(tokens)} tokens start with {prefix}")
        api_token_revoke(token=tokens[0], actor=None)
        self.stdout.write(f"revoked {prefix}")
