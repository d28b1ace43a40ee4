"""Checks of an uploaded workbook before any of it is parsed.

An .xlsx file is a zip archive. Everything here reads only the zip's central directory and the
first bytes of each XML part, so a hostile file is refused in milliseconds and without
unpacking it: a zip bomb by the sizes and ratios the directory declares (zipfile never unpacks
more than a member's declared size), a macro workbook by its parts and content types, an XML
entity attack (billion laughs, external entities) by its DTD, which defusedxml refuses.
"""

import zipfile
from typing import IO

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser
from django.conf import settings
from django.utils.translation import gettext as _

from common.errors import ApplicationError

XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
MACRO_MARKERS = ("macroenabled", "vbaproject")
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, and password-protected .xlsx
ZIP_MAGIC = b"PK\x03\x04"
PROLOG_BYTES = 64 * 1024
# Small members may compress very well (empty styles, repeated XML); the ratio is a sign of a
# bomb only for members big enough to matter.
RATIO_MIN_SIZE = 1 * 2**20


class RefusedFileError(ApplicationError):
    """The upload is not an .xlsx workbook we are willing to read."""


def _mb(n: int) -> str:
    return f"{n / 2**20:.0f} MB"


def check_workbook(fileobj: IO[bytes], *, size: int) -> zipfile.ZipFile:
    """Refuse anything but a plain .xlsx workbook within the limits; return its open zip."""
    if size > settings.ZHUCUN_IMPORT_MAX_BYTES:
        raise RefusedFileError(
            _("文件过大（%(size)s），单个文件不能超过 %(max)s，请分成几个文件导入。")
            % {"size": _mb(size), "max": _mb(settings.ZHUCUN_IMPORT_MAX_BYTES)}
        )
    fileobj.seek(0)
    magic = fileobj.read(8)
    fileobj.seek(0)
    if magic == OLE_MAGIC:
        raise RefusedFileError(
            _(
                "这是旧版 .xls 文件或设置了打开密码的工作簿，"
                "请在 Excel 中“另存为”.xlsx 格式（不设密码）后上传。"
            )
        )
    if not magic.startswith(ZIP_MAGIC):
        raise RefusedFileError(_("文件不是 Excel 工作簿（.xlsx），请选择 .xlsx 文件。"))
    try:
        book = zipfile.ZipFile(fileobj)
        members = book.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError):
        raise RefusedFileError(_("文件已损坏，无法作为 .xlsx 工作簿打开。")) from None
    _check_members(members)
    _check_content_types(book)
    for info in members:
        if info.filename.lower().endswith((".xml", ".rels")):
            check_prolog(book, info)
    return book


def _check_members(members: list[zipfile.ZipInfo]) -> None:
    if len(members) > settings.ZHUCUN_IMPORT_MAX_ENTRIES:
        raise RefusedFileError(
            _("文件包含 %(n)d 个部件，超过上限 %(max)d，不像正常的工作簿，已拒绝。")
            % {"n": len(members), "max": settings.ZHUCUN_IMPORT_MAX_ENTRIES}
        )
    total = 0
    for info in members:  # sizes first: a bomb is named a bomb whatever else it is
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > RATIO_MIN_SIZE and ratio > settings.ZHUCUN_IMPORT_MAX_RATIO:
            raise RefusedFileError(
                _("文件中的部件压缩比异常（%(ratio)d 倍），疑似“压缩炸弹”，已拒绝。")
                % {"ratio": ratio}
            )
        if total > settings.ZHUCUN_IMPORT_MAX_UNPACKED:
            raise RefusedFileError(
                _("文件解压后超过 %(max)s，疑似“压缩炸弹”，已拒绝；正常数据请分成几个文件导入。")
                % {"max": _mb(settings.ZHUCUN_IMPORT_MAX_UNPACKED)}
            )
    for info in members:
        name = info.filename.replace("\\", "/")
        if name.startswith("/") or ".." in name.split("/"):
            raise RefusedFileError(_("文件结构异常（部件路径不合法），已拒绝。"))
        if info.flag_bits & 0x1:
            raise RefusedFileError(_("工作簿已加密，请去掉密码后再上传。"))
        if "vbaproject" in name.lower():
            raise RefusedFileError(_("工作簿含有宏（VBA），请另存为不含宏的 .xlsx 文件后上传。"))
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise RefusedFileError(
                _("文件使用了不支持的压缩方式，请用 Excel 或 WPS 重新保存为 .xlsx。")
            )


def _check_content_types(book: zipfile.ZipFile) -> None:
    try:
        info = book.getinfo("[Content_Types].xml")
    except KeyError:
        raise RefusedFileError(_("文件不是 Excel 工作簿（缺少内容类型声明）。")) from None
    if info.file_size > 4 * 2**20:
        raise RefusedFileError(_("文件结构异常（内容类型声明过大），已拒绝。"))
    check_prolog(book, info)
    text = book.read(info).decode("utf-8", "replace").lower()
    if any(marker in text for marker in MACRO_MARKERS):
        raise RefusedFileError(_("工作簿含有宏（VBA），请另存为不含宏的 .xlsx 文件后上传。"))
    if XLSX_MAIN not in text:
        raise RefusedFileError(
            _(
                "文件不是 .xlsx 工作簿（可能是模板、加载项或其他 Office 文件），"
                "请另存为 .xlsx 后上传。"
            )
        )


class _RootSeenError(Exception):
    pass


class _StopAtRoot:
    """A parser target that stops at the first element: the prolog is all we check here."""

    def start(self, tag, attrib):
        raise _RootSeenError

    def end(self, tag):
        pass

    def data(self, data):
        pass

    def close(self):
        return None


def check_prolog(book: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """Refuse an XML part with a DTD, entity declarations or external references.

    A DTD can only stand before the root element, so defusedxml reading the part up to its
    root element decides it; the rest of the part is then parsed without any DTD in force.
    """
    with book.open(info) as stream:
        head = stream.read(PROLOG_BYTES)
    parser = DefusedXMLParser(
        target=_StopAtRoot(), forbid_dtd=True, forbid_entities=True, forbid_external=True
    )
    try:
        parser.feed(head)
    except _RootSeenError:
        return
    except DefusedXmlException:
        raise RefusedFileError(
            _("文件中含有 XML 实体或文档类型声明（%(part)s），可能是恶意文件，已拒绝。")
            % {"part": info.filename}
        ) from None
    except Exception:  # any parser error: the part is not well-formed XML
        raise RefusedFileError(
            _("文件已损坏（%(part)s 不是有效的 XML），请用 Excel 或 WPS 重新保存后上传。")
            % {"part": info.filename}
        ) from None
    raise RefusedFileError(
        _("文件结构异常（%(part)s 为空或开头过长），已拒绝。") % {"part": info.filename}
    )
