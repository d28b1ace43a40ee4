"""Validated, all-or-nothing Excel imports (issue 7).

The pieces, in the order a file meets them:

- `upload`: checks of the upload before anything is parsed (size, a real .xlsx without
  macros, the zip's entries, unpacked size and compression ratio, DTDs in any XML part);
- `xlsx`: a streaming worksheet reader (bounded memory, fast on regular XML);
- `layouts`: the column definitions of every import layout, in one place; the export
  profiles that import back (member lists, cadres, units) are made from them;
- `cells`: cleaning and conversion of one cell to a typed value for its column;
- `sheets`: header matching (title rows, merged and two-row headers, any column order) and the
  typed rows of a sheet with the problems of each cell;
- `households`, `roster`: the importers, which hand typed rows to the services of
  `households` and `teams` (those check every rule and write);
- `workbooks`: the downloadable templates, the bad-row report and the layout writer;
- `services` / `selectors`: the import job (upload → dry run → confirm → commit) and its reads.
"""
