from celery import shared_task


@shared_task(acks_late=True, soft_time_limit=600, time_limit=660)
def teams_end_term_task(*, team_ids: list[int], ended_on: str, actor_id: int | None = None) -> int:
    """End the term of many teams at once (换届). Each team is its own transaction, and ending
    an ended team changes nothing, so a redelivered task is harmless."""
    import datetime as dt

    from .models import WorkTeam
    from .services import team_end_term

    day = dt.date.fromisoformat(ended_on)
    done = 0
    for team in WorkTeam.objects.filter(pk__in=team_ids).order_by("pk"):
        team_end_term(team=team, ended_on=day)
        done += 1
    return done
