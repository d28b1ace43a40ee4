"""Exports of the big lists as jobs (DESIGN.md section 5: long work is a job).

- `layouts`: the columns of each export profile (system and national-list layouts, cadres,
  units), data; the profiles that import back are made from the import layouts.
- `filters`: which rows (the changelist's parameters), validated on request.
- `xlsx`, `csv_writer`: the streaming writers.
- `runner`: one export, from `visible_to(requester)` through a server-side cursor to a file.
- `services`, `selectors`, `views`: request, run, status, download; what the admin uses and
  what an API view calls in one line each:

    job = services.export_job_request(user=u, profile="member_national", filters={...},
                                      format="xlsx", unmasked=False, reason="")
    job = selectors.export_job_get(user=u, job_id=pk)          # Http404 unless u's own
    data = views.export_job_status(user=u, job_id=pk)          # status, progress, link
    return views.export_job_download_response(request, pk)     # the file, audited
"""
