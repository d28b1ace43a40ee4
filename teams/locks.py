"""Years closed by a finalized yearly assessment (年度考核定格).

Finalizing a cadre's or a team's assessment of a year locks that year of the cadre and of the
village the team served (`YearLock`). From then on the services refuse, with a clear message,
every write that would change what the assessment was computed from:

- the cadre's year: check-in, absences recorded by inspections, leave and official business
  (request, decision, withdrawal), and the visits the cadre records;
- the village's year: the same presence writes of anyone serving on a team of the village,
  visits to its households, and the registration of their incomes.

Each check is one query on the two partial unique indexes of `YearLock`. Years are never
unlocked: a finalized assessment is immutable, and so is what it stands on.
"""

from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q, Subquery
from django.utils.translation import gettext as _

from accounts.models import User
from common.errors import ApplicationError

from .models import WorkTeam, YearLock


def year_lock_check(
    *,
    years: Iterable[int],
    what: str,
    cadre_id: int | None = None,
    village_id: int | None = None,
    team_id: int | None = None,
) -> None:
    """Refuse `what` (e.g. "签到") when one of `years` is locked for the cadre, the village,
    or the village of the team (one query)."""
    years = sorted(set(years))
    where = Q()
    if cadre_id is not None:
        where |= Q(cadre_id=cadre_id)
    if village_id is not None:
        where |= Q(village_id=village_id)
    elif team_id is not None:
        where |= Q(village_id=Subquery(WorkTeam.objects.filter(pk=team_id).values("village_id")))
    if not years or not where:
        return
    year = (
        YearLock.objects.filter(where, year__in=years)
        .order_by("year")
        .values_list("year", flat=True)
        .first()
    )
    if year is not None:
        raise ApplicationError(
            _("%(year)d年度考核已定格，该年度的考勤、请假、走访和收入记录已锁定，不能再%(what)s。")
            % {"year": year, "what": what},
            extra={"locked_year": year},
        )


@transaction.atomic
def year_lock_set(
    *,
    year: int,
    reason: str,
    cadre_ids: Iterable[int] = (),
    village_ids: Iterable[int] = (),
    actor: User | None = None,
) -> int:
    """Lock `year` for these cadres and villages; locking again changes nothing. Returns how
    many locks were new."""
    made = {"year": year, "reason": reason, "locked_by": actor}
    rows = [YearLock(cadre_id=pk, **made) for pk in cadre_ids]
    rows += [YearLock(village_id=pk, **made) for pk in village_ids]
    if not rows:
        return 0
    before = YearLock.objects.filter(year=year).count()
    YearLock.objects.bulk_create(rows, ignore_conflicts=True)
    return YearLock.objects.filter(year=year).count() - before
