"""A streaming reader of .xlsx worksheets: bounded memory, fast on the regular XML that Excel,
WPS, LibreOffice and openpyxl write, exact on anything else.

Every XML part is checked by defusedxml before it is read (`upload.check_prolog`: no DTD, no
entity declarations, no external references), and the zip was checked before
(`upload.check_workbook`); zipfile never unpacks more than the sizes that check accepted.

A worksheet is unpacked in 1 MiB pieces and cut after its last complete row. One regular
expression scans each batch of complete rows for the cell shapes those writers produce
(`<c r="B7" s="3" t="s"><v>12</v></c>`, with an optional formula or inline string). When the
number of cells and rows it finds differs from the number of `<c` and `<row` tags in the
batch (another attribute order, whitespace between elements, comments, rich text, cells
without a reference ...), that batch is parsed by ElementTree instead: exact, about three
times slower. Both give the same cells (tests/reports/test_import_xlsx.py).

Small parts (workbook, relationships, styles) are parsed by defusedxml itself.
"""

import datetime as dt
import posixpath
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

from defusedxml.ElementTree import fromstring as defused_fromstring
from django.utils.translation import gettext as _

from .upload import RefusedFileError, check_prolog

MAIN_NAMESPACES = (
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "http://purl.oclc.org/ooxml/spreadsheetml/main",  # ISO 29500 strict
)
REL_NS = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "http://purl.oclc.org/ooxml/officeDocument/relationships",
)
PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
CHUNK = 1 << 20
HEAD_LIMIT = 16 << 20  # the part of a sheet before <sheetData> (views, column widths)

# Built-in number formats that show dates: 14-22, 45-47, and the East Asian date formats
# 27-36 and 50-58 of Chinese, Japanese and Korean Excel.
DATE_FORMAT_IDS = frozenset([*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)])
_DATE_CODE = re.compile(r"[dmyhs]", re.IGNORECASE)
_QUOTED = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.|_.|\*.')
_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")
_ENTITY = re.compile(rb"&(lt|gt|amp|quot|apos|#[0-9]+|#x[0-9A-Fa-f]+);")
_ENTITIES = {b"lt": "<", b"gt": ">", b"amp": "&", b"quot": '"', b"apos": "'"}


class Cell(NamedTuple):
    """A cell as the workbook holds it: `kind` is "s" (text), "n" (number), "b" (boolean),
    "d" (a number shown as a date, `value` a datetime), "e" (an error like #N/A); `formula`
    says the cell is computed (its value is the last result Excel saved)."""

    value: object
    kind: str
    formula: bool


EMPTY = Cell(None, "s", False)


@dataclass(frozen=True)
class SheetInfo:
    name: str
    path: str
    visible: bool


def column_letters(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def column_index(letters: str) -> int:
    index = 0
    for char in letters:
        index = index * 26 + ord(char) - 64
    return index - 1


def _unescape(raw: bytes) -> str:
    """XML text to str: the five XML entities and character references; nothing else may be
    referenced without a DTD, so any other `&` makes the batch go to the exact parser."""
    if b"&" in raw:

        def entity(match: re.Match) -> bytes:
            name = match.group(1)
            if name in _ENTITIES:
                return _ENTITIES[name].encode()
            code = int(name[2:], 16) if name[1:2] == b"x" else int(name[1:])
            return chr(code).encode()

        raw = _ENTITY.sub(entity, raw)
    text = raw.decode("utf-8")
    return _ooxml_unescape(text)


def _ooxml_unescape(text: str) -> str:
    """OOXML writes characters XML cannot hold as `_x000D_`."""
    if "_x" in text:
        text = _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text)
    return text


def _safe_unescape(raw: bytes) -> str:
    try:
        return _unescape(raw)
    except (ValueError, UnicodeDecodeError):
        return raw.decode("utf-8", "replace")


class _IrregularError(Exception):
    """A batch the fast scanner cannot vouch for: parse it exactly."""


class Workbook:
    """An opened, checked workbook: its sheets, shared strings and date styles."""

    def __init__(self, book: zipfile.ZipFile):
        self.zip = book
        self._names = {info.filename: info for info in book.infolist()}
        path = self._main_part()
        self._workbook_path = path
        root = self._small_xml(path)
        ns = _namespace(root.tag)
        if ns not in MAIN_NAMESPACES:
            raise RefusedFileError(_("文件不是 Excel 工作簿（主体部件不是工作簿）。"))
        self.ns = "{" + ns + "}"
        pr = root.find(f"{self.ns}workbookPr")
        self.date1904 = pr is not None and pr.get("date1904") in ("1", "true")
        rels = self._relationships(path)
        self._rels = rels
        self.sheets: list[SheetInfo] = []
        for sheet in root.iter(f"{self.ns}sheet"):
            rid = next((sheet.get(f"{{{r}}}id") for r in REL_NS if sheet.get(f"{{{r}}}id")), None)
            target = rels.get(rid or "", ("", ""))[0]
            if target and target in self._names:
                self.sheets.append(
                    SheetInfo(
                        name=sheet.get("name") or "",
                        path=target,
                        visible=(sheet.get("state") or "visible") == "visible",
                    )
                )
        self._strings: list[str] | None = None
        self._date_styles: frozenset[int] | None = None

    # --- parts ---------------------------------------------------------------------------

    def _info(self, path: str) -> zipfile.ZipInfo:
        try:
            return self._names[path]
        except KeyError:
            raise RefusedFileError(_("文件不完整（缺少 %s），请重新保存后上传。") % path) from None

    def _small_xml(self, path: str) -> ET.Element:
        info = self._info(path)
        if info.file_size > 64 * 2**20:
            raise RefusedFileError(_("文件结构异常（%s 过大），已拒绝。") % path)
        check_prolog(self.zip, info)
        try:
            return defused_fromstring(self.zip.read(info))
        except Exception:  # malformed or forbidden: either way refused
            raise RefusedFileError(_("文件已损坏（%s 不是有效的 XML）。") % path) from None

    def _relationships(self, part: str) -> dict[str, tuple[str, str]]:
        """{id: (target part, relationship type)} of a part."""
        folder, name = posixpath.split(part)
        path = posixpath.join(folder, "_rels", name + ".rels")
        if path not in self._names:
            return {}
        out = {}
        for rel in self._small_xml(path).iter(PKG_REL):
            target = rel.get("Target") or ""
            if rel.get("TargetMode") == "External":
                continue
            if target.startswith("/"):
                resolved = target.lstrip("/")
            else:
                resolved = posixpath.normpath(posixpath.join(folder, target))
            out[rel.get("Id") or ""] = (resolved, rel.get("Type") or "")
        return out

    def _main_part(self) -> str:
        for target, kind in self._relationships("").values():
            if kind.endswith("/officeDocument") and target in self._names:
                return target
        if "xl/workbook.xml" in self._names:
            return "xl/workbook.xml"
        raise RefusedFileError(_("文件不是 Excel 工作簿（找不到工作簿部件）。"))

    def _related(self, kind: str) -> str | None:
        for target, rel_type in self._rels.values():
            if rel_type.endswith("/" + kind) and target in self._names:
                return target
        return None

    # --- shared strings and styles -------------------------------------------------------

    @property
    def strings(self) -> list[str]:
        if self._strings is None:
            path = self._related("sharedStrings")
            self._strings = list(self._read_strings(path)) if path else []
        return self._strings

    def _read_strings(self, path: str) -> Iterator[str]:
        info = self._info(path)
        check_prolog(self.zip, info)
        stream = _Stream(self.zip, info)
        head = stream.until_element(b"sst")
        prefix, root_open = _root(head, b"sst", path)
        stream.consume(head.index(root_open) + len(root_open))
        tag = b"<" + prefix
        fast = re.compile(
            tag
            + rb"si>"
            + tag
            + rb't(?: xml:space="preserve")?>([^<]*)</'
            + prefix
            + rb"t></"
            + prefix
            + rb"si>"
        )
        count = re.compile(tag + rb"si[\s/>]")
        for batch in stream.batches(b"</" + prefix + b"si>"):
            found = fast.findall(batch)
            strings = None
            if len(found) == len(count.findall(batch)):
                try:
                    strings = [_unescape(raw) for raw in found]
                except (ValueError, UnicodeDecodeError):
                    strings = None
            if strings is None:
                strings = list(self._exact_strings(root_open, prefix, batch, path))
            yield from strings

    def _exact_strings(self, root_open: bytes, prefix: bytes, batch: bytes, path: str):
        root = _parse_batch(root_open, prefix, b"sst", batch, path)
        t, r = f"{self.ns}t", f"{self.ns}r"
        for si in root:
            direct = si.find(t)
            if direct is not None:
                yield _ooxml_unescape(direct.text or "")
            else:  # rich text: the runs' text, never the phonetic guide (rPh)
                yield _ooxml_unescape("".join(run.findtext(t) or "" for run in si.findall(r)))

    @property
    def date_styles(self) -> frozenset[int]:
        """Indexes of the cell formats that show a number as a date."""
        if self._date_styles is None:
            path = self._related("styles")
            self._date_styles = self._read_date_styles(path) if path else frozenset()
        return self._date_styles

    def _read_date_styles(self, path: str) -> frozenset[int]:
        root = self._small_xml(path)
        custom = {}
        for fmt in root.iter(f"{self.ns}numFmt"):
            code = _QUOTED.sub("", fmt.get("formatCode") or "")
            custom[int(fmt.get("numFmtId") or -1)] = bool(_DATE_CODE.search(code))
        xfs = root.find(f"{self.ns}cellXfs")
        dates = set()
        for index, xf in enumerate(xfs if xfs is not None else ()):
            fmt_id = int(xf.get("numFmtId") or 0)
            if custom.get(fmt_id, fmt_id in DATE_FORMAT_IDS):
                dates.add(index)
        return frozenset(dates)

    # --- sheets --------------------------------------------------------------------------

    def sheet(self, info: SheetInfo) -> "SheetReader":
        return SheetReader(self, info)


def _namespace(tag: str) -> str:
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


def _root(head: bytes, name: bytes, path: str) -> tuple[bytes, bytes]:
    """The namespace prefix of a part's elements and its root start tag (with the namespace
    declarations that a batch of its elements needs to parse on its own)."""
    match = re.search(rb"<(?:([A-Za-z_][\w.-]*):)?" + name + rb"\b[^>]*>", head)
    if match is None:
        raise RefusedFileError(_("文件已损坏（%s 结构不完整）。") % path)
    prefix = (match.group(1) + b":") if match.group(1) else b""
    root_open = match.group(0)
    if root_open.endswith(b"/>"):
        root_open = root_open[:-2] + b">"
    return prefix, root_open


def _parse_batch(root_open: bytes, prefix: bytes, name: bytes, batch: bytes, path: str):
    try:
        # No DTD can be in force here: the part's prolog passed defusedxml (check_prolog), and
        # a DTD inside a batch of rows is not well-formed XML.
        return ET.fromstring(root_open + batch + b"</" + prefix + name + b">")  # noqa: S314
    except ET.ParseError:
        raise RefusedFileError(
            _("文件已损坏（%s 的 XML 格式错误），请用 Excel 或 WPS 重新保存后上传。") % path
        ) from None


class _Stream:
    """A zip member read in pieces, cut after the last complete element of a kind."""

    def __init__(self, book: zipfile.ZipFile, info: zipfile.ZipInfo):
        self.file = book.open(info)
        self.buffer = b""
        self.done = False

    def _more(self) -> bool:
        data = self.file.read(CHUNK)
        if not data:
            self.done = True
            return False
        self.buffer += data
        return True

    def until_element(self, name: bytes, limit: int = HEAD_LIMIT) -> bytes:
        """Read until the start tag of `name` (the root or sheetData) has been seen whole."""
        pattern = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?" + name + rb"\b[^>]*>")
        while True:
            match = pattern.search(self.buffer)
            if match:
                return self.buffer[: match.end()]
            if len(self.buffer) > limit or not self._more():
                return self.buffer

    def consume(self, upto: int) -> None:
        self.buffer = self.buffer[upto:]

    def batches(self, end_tag: bytes) -> Iterator[bytes]:
        """Pieces of complete elements, each ending with `end_tag`; then the rest."""
        while True:
            more = self._more()
            cut = self.buffer.rfind(end_tag)
            if cut >= 0:
                cut += len(end_tag)
                batch, self.buffer = self.buffer[:cut], self.buffer[cut:]
                yield batch
            if not more:
                if self.buffer:
                    rest, self.buffer = self.buffer, b""
                    yield rest
                self.file.close()
                return


class SheetReader:
    """The rows of one worksheet, in order, as {column letters: raw cell}.

    `columns` (bytes column letters) restricts the cells kept once the header is known.
    Vertically merged cells take the value of the merge's first cell (a household's columns
    merged over its members' rows, for example).
    """

    def __init__(self, book: Workbook, info: SheetInfo):
        self.book = book
        self.info = info
        self.columns: frozenset[bytes] | None = None
        self.date_styles = book.date_styles
        self.strings = book.strings
        # Excel's dates are wall-clock values without a time zone.
        epoch = (1904, 1, 1) if book.date1904 else (1899, 12, 30)
        self.base = dt.datetime(*epoch)  # noqa: DTZ001
        self.fast_batches = 0
        self.exact_batches = 0
        self.dimension_rows = 0  # the sheet's own count of its rows, when it says
        self._zinfo = book._info(info.path)
        check_prolog(book.zip, self._zinfo)
        self.merges = self._merges()

    def _merges(self) -> dict[int, list[tuple[int, int, bytes]]]:
        """{first row: [(last row, column, letters)]} of the vertical merges, from the
        mergeCells element at the end of the sheet (one quick pass over the unpacked XML)."""
        pattern = re.compile(
            rb'<(?:[A-Za-z_][\w.-]*:)?mergeCell\s+ref="([A-Z]{1,3})([0-9]+):([A-Z]{1,3})([0-9]+)"'
        )
        refs: set[tuple[bytes, ...]] = set()
        tail = b""
        with self.book.zip.open(self._zinfo) as stream:
            while data := stream.read(CHUNK):
                window = tail + data
                if b"mergeCell" in window:
                    refs.update(pattern.findall(window))
                tail = window[-256:]
        found: dict[int, list[tuple[int, int, bytes]]] = {}
        for ref in sorted(refs):
            self._add_merge(found, *ref)
        return found

    @staticmethod
    def _add_merge(found, c1: bytes, r1: bytes, c2: bytes, r2: bytes) -> None:
        first, last = int(r1), int(r2)
        if last <= first:
            return  # a merge within one row: its other cells are simply empty
        for index in range(column_index(c1.decode()), column_index(c2.decode()) + 1):
            entry = (last, index, column_letters(index).encode())
            if entry not in found.setdefault(first, []):
                found[first].append(entry)

    def __iter__(self) -> Iterator[tuple[int, dict[bytes, tuple]]]:
        stream = _Stream(self.book.zip, self._zinfo)
        head = stream.until_element(b"worksheet")
        prefix, root_open = _root(head, b"worksheet", self.info.path)
        self._prefix, self._root_open = prefix, root_open
        self._t_open, self._t_close = b"<" + prefix + b"t>", b"</" + prefix + b"t>"
        self._t_preserve = re.compile(
            re.escape(b"<" + prefix + b't xml:space="preserve">')
            + rb"([^<]*)"
            + re.escape(b"</" + prefix + b"t>"),
            re.S,
        )
        head = stream.until_element(b"sheetData")
        dimension = re.search(
            rb'<(?:[A-Za-z_][\w.-]*:)?dimension\s+ref="[A-Z]+[0-9]+:[A-Z]+([0-9]+)"', head
        )
        self.dimension_rows = int(dimension.group(1)) if dimension else 0
        start = re.search(rb"<(?:[A-Za-z_][\w.-]*:)?sheetData\b[^>]*>", head)
        if start is None:
            stream.file.close()
            return
        if start.group(0).endswith(b"/>"):
            stream.file.close()
            return  # an empty sheet
        stream.consume(start.end())
        scanner = _Scanner(prefix, root_open, self.info.path)
        end_data = b"</" + prefix + b"sheetData>"
        active: list[tuple[int, int, bytes, tuple]] = []  # (last row, column, letters, cell)
        try:
            for batch in stream.batches(b"</" + prefix + b"row>"):
                stop = batch.find(end_data)
                if stop >= 0:
                    batch = batch[:stop]
                for number, cells in scanner.rows(batch, self.columns):
                    if self.merges or active:
                        cells = self._fill(number, cells, active)
                    yield number, cells
                if stop >= 0:
                    break
        finally:
            stream.file.close()
            self.fast_batches, self.exact_batches = scanner.fast, scanner.exact

    def _fill(self, number: int, cells: dict, active: list) -> dict:
        active[:] = [entry for entry in active if entry[0] >= number]
        for _last, _index, letters, cell in active:
            if letters not in cells and (self.columns is None or letters in self.columns):
                cells[letters] = cell
        for last, index, letters in self.merges.get(number, ()):
            cell = cells.get(letters)
            if cell is not None:
                active.append((last, index, letters, cell))
        return cells

    def _inline(self, inline: bytes) -> str:
        """The text of an inline string: one plain <t> (quick), or rich text parsed exactly."""
        t_open, t_close = self._t_open, self._t_close
        if inline.startswith(t_open) and inline.endswith(t_close):
            text = inline[len(t_open) : -len(t_close)]
            if b"<" not in text:
                return _safe_unescape(text)
        match = self._t_preserve.fullmatch(inline)
        if match is not None:
            return _safe_unescape(match.group(1))
        # Rich text (runs with fonts): the runs' text, never the phonetic guide.
        root = _parse_batch(
            self._root_open,
            self._prefix,
            b"worksheet",
            b"<" + self._prefix + b"is>" + inline + b"</" + self._prefix + b"is>",
            self.info.path,
        )
        ns = "{" + _namespace(root.tag) + "}" if root.tag.startswith("{") else ""
        runs = root[0].findall(f"{ns}r")
        return _ooxml_unescape("".join(run.findtext(f"{ns}t") or "" for run in runs))

    def value(self, raw: tuple) -> Cell:
        """The value of a raw cell (column, style, type, formula, value, inline text)."""
        _col, style, kind, formula, value, inline = raw
        formula = bool(formula)
        if kind == b"s":
            try:
                return Cell(self.strings[int(value)], "s", formula)
            except (ValueError, IndexError):
                return Cell("", "s", formula)
        if kind == b"inlineStr":
            if isinstance(inline, str):  # from the exact parser
                return Cell(inline, "s", formula)
            return Cell(self._inline(inline), "s", formula)
        if kind == b"str":
            return Cell(_safe_unescape(value), "s", formula)
        if kind == b"b":
            return Cell(value in (b"1", b"true"), "b", formula)
        if kind == b"e":
            return Cell(value.decode("utf-8", "replace"), "e", formula)
        if kind == b"d":  # strict OOXML: an ISO date in the cell
            try:
                return Cell(dt.datetime.fromisoformat(value.decode()), "d", formula)
            except ValueError:
                return Cell(value.decode("utf-8", "replace"), "s", formula)
        if not value:
            return Cell(None, "s", formula)
        try:
            number = float(value)
        except ValueError:
            return Cell(value.decode("utf-8", "replace"), "s", formula)
        if style and int(style) in self.date_styles and 0 <= number < 2958466:
            return Cell(self.base + dt.timedelta(days=number), "d", formula)
        return Cell(number, "n", formula)


class _Scanner:
    """Cells of batches of complete rows: the fast scan, or ElementTree when it cannot vouch."""

    def __init__(self, prefix: bytes, root_open: bytes, path: str):
        p = re.escape(prefix)
        self.prefix, self.root_open, self.path = prefix, root_open, path
        self.row_start = re.compile(rb"\s*<" + p + rb'row r="([0-9]+)"[^>/]*>')
        self.empty_row = re.compile(rb"<" + p + rb"row\b[^>]*/>")
        self.row_open = b"<" + prefix + b"row"
        self.row_end = b"</" + prefix + b"row>"
        self.cell_open = b"<" + prefix + b"c"
        self.cell = re.compile(
            rb"<" + p + rb'c r="([A-Z]{1,3})[0-9]+"(?: s="([0-9]+)")?(?: t="([a-zA-Z]+)")?'
            rb"(?:/>|>"
            rb"(<" + p + rb"f\b[^>]*?(?:/>|>[^<]*</" + p + rb"f>))?"
            rb"(?:<" + p + rb"v>([^<]*)</" + p + rb"v>)?"
            rb"(?:<" + p + rb"is>(.*?)</" + p + rb"is>)?"
            rb"</" + p + rb"c>)",
            re.S,
        )
        self.fast = self.exact = 0

    def rows(self, batch: bytes, columns: frozenset[bytes] | None):
        try:
            out = self._fast(batch, columns)
        except _IrregularError:
            out = None
        if out is None:
            self.exact += 1
            return self._exact(batch, columns)
        self.fast += 1
        return out

    def _fast(self, batch: bytes, columns):
        row_open, row_end = self.row_open, self.row_end
        if batch.count(row_open) != batch.count(row_end):
            batch = self.empty_row.sub(b"", batch)  # <row r="9" ht="20"/>: nothing in it
            if batch.count(row_open) != batch.count(row_end):
                raise _IrregularError
        out = []
        found = 0
        findall, match = self.cell.findall, self.row_start.match
        pieces = batch.split(row_end)
        if pieces[-1].strip():
            raise _IrregularError
        for piece in pieces[:-1]:
            start = match(piece)
            if start is None:
                raise _IrregularError
            cells = findall(piece, start.end())
            if not cells:
                continue
            found += len(cells)
            if columns is None:
                out.append((int(start.group(1)), {c[0]: c for c in cells}))
            else:
                out.append((int(start.group(1)), {c[0]: c for c in cells if c[0] in columns}))
        if found != batch.count(self.cell_open):
            raise _IrregularError
        return out

    def _exact(self, batch: bytes, columns):
        root = _parse_batch(self.root_open, self.prefix, b"worksheet", batch, self.path)
        ns = "{" + _namespace(root.tag) + "}" if root.tag.startswith("{") else ""
        tags = {k: ns + k for k in ("row", "c", "f", "v", "is", "t", "r")}
        out = []
        number = 0
        for row in root:
            if row.tag != tags["row"]:
                continue
            number = int(row.get("r") or number + 1)
            cells = {}
            position = -1
            for c in row:
                if c.tag != tags["c"]:
                    continue
                ref = c.get("r")
                if ref:
                    letters = ref.rstrip("0123456789")
                    position = column_index(letters)
                else:
                    position += 1
                    letters = column_letters(position)
                key = letters.encode()
                if columns is not None and key not in columns:
                    continue
                is_ = c.find(tags["is"])
                inline = ""
                if is_ is not None:
                    direct = is_.find(tags["t"])
                    if direct is not None:
                        inline = direct.text or ""
                    else:
                        inline = "".join(
                            run.findtext(tags["t"]) or "" for run in is_.findall(tags["r"])
                        )
                    inline = _ooxml_unescape(inline)
                value = c.findtext(tags["v"])
                cells[key] = (
                    key,
                    (c.get("s") or "").encode(),
                    (c.get("t") or "").encode(),
                    b"1" if c.find(tags["f"]) is not None else b"",
                    value.encode() if value is not None else b"",
                    inline,
                )
            if cells:
                out.append((number, cells))
        return out
