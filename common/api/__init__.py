"""The provincial pull API's framework (`/api/v1/`): every read endpoint of every app is built
from these pieces, so scope, masking, paging, logging and documentation cannot be forgotten.

- `SyncViewSet` (viewsets): list and retrieve of one synced table; `get_queryset()` is the
  app's selector, which starts from `visible_to(user)`; out of scope answers like a missing id.
- `SyncSerializer` (serializers): the resource's contract as a ModelSerializer (schema,
  tests), compiled once into a plan that serializes `.values_list()` rows (no instances, no
  per-row queries); ID numbers and phones are `MaskedField`s, revealed only with the
  permission and a reason, and every reveal is logged.
- `SyncCursorPagination` (pagination): pages in the commit-safe `(sync_xid, id)` order of
  `common.sync`; the `next` link is also where a mirror resumes later for what changed.
- `SyncFilterSet` (filters): `region` (a code prefix) and `updated_since` on every endpoint.
- `ApiRouter` (routers): each app's `urls.py` registers its endpoints; the registry is what
  the scope test walks (tests/api), so an endpoint without a scope case fails the suite.
- Errors are `{"message", "extra"}` in Chinese (common.errors); the schema documents them.

Adding an endpoint: a `SyncSerializer`, a `SyncFilterSet`, a `SyncViewSet` with its selector
and its Chinese summary, description and example, one `router.register(...)` line in the app's
`urls.py`, and one scope case in `tests/api/cases.py`.
"""

REVEAL_PERMISSION = "accounts.reveal_personal_data"
