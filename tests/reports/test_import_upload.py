"""Uploads are checked before anything is parsed: zip bombs, XML entity attacks, macros,
other files. A hostile file is refused quickly, with a Chinese message, and never stored."""

import io
import os
import time
import tracemalloc
import zipfile

import pytest

from reports.imports import services
from reports.imports.upload import RefusedFileError, check_workbook
from reports.imports.xlsx import Workbook
from reports.models import ImportJob

from .import_builders import headers, upload, xlsx

BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + b"".join(
        b' <!ENTITY lol%d "%s">\n' % (n, (b"&lol%d;" % (n - 1) if n > 1 else b"&lol;") * 10)
        for n in range(1, 10)
    )
    + b']>\n<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row>'
    b"</sheetData></worksheet>"
)


def replace_part(content: bytes, name: str, data: bytes, *, add: dict[str, bytes] | None = None):
    """The workbook with one part replaced (and others added)."""
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, data if info.filename == name else source.read(info))
        for extra, payload in (add or {}).items():
            target.writestr(extra, payload)
    return out.getvalue()


@pytest.fixture(scope="session")
def zip_bomb() -> bytes:
    """A workbook of about 1 KB whose sheet unpacks to 1 GB of zeros."""
    buffer = io.BytesIO()
    base = zipfile.ZipFile(io.BytesIO(xlsx([["x"]], headers=["姓名"])))
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_BZIP2, compresslevel=9) as book:
        for info in base.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                book.writestr(info.filename, base.read(info))
        zeros = bytes(2**20)
        with book.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            for _ in range(1024):
                sheet.write(zeros)
    return buffer.getvalue()


def refused(content: bytes) -> str:
    with pytest.raises(RefusedFileError) as exc:
        check_workbook(io.BytesIO(content), size=len(content))
    return exc.value.message


def test_a_zip_bomb_is_refused_at_once_without_unpacking(zip_bomb):
    assert len(zip_bomb) < 20_000  # the sheet part itself is about 1 KB
    assert (
        zipfile.ZipFile(io.BytesIO(zip_bomb)).getinfo("xl/worksheets/sheet1.xml").file_size == 2**30
    )
    tracemalloc.start()
    started = time.perf_counter()
    message = refused(zip_bomb)
    elapsed = time.perf_counter() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert "压缩炸弹" in message
    assert elapsed < 1.0
    assert peak < 5 * 2**20  # nothing was unpacked


def test_a_zip_bomb_upload_is_never_stored(world, zip_bomb, media):
    jobs = ImportJob.objects.count()
    with pytest.raises(RefusedFileError, match="压缩炸弹"):
        services.import_job_create(
            user=world.official_a, layout="households", upload=upload(zip_bomb)
        )
    assert ImportJob.objects.count() == jobs
    assert not (media / "imports").exists()


def test_a_highly_compressed_part_is_refused_by_its_ratio(settings):
    settings.ZHUCUN_IMPORT_MAX_RATIO = 100
    content = xlsx([["x"]], headers=["姓名"])
    content = replace_part(content, "xl/worksheets/sheet1.xml", b" " * (3 * 2**20))
    assert "压缩比异常" in refused(content)


def test_parts_each_within_the_limits_but_too_big_together_are_refused(settings):
    settings.ZHUCUN_IMPORT_MAX_UNPACKED = 2 * 2**20
    noise = {f"xl/media/image{n}.bin": os.urandom(600 * 2**10) for n in range(4)}
    content = replace_part(xlsx([["x"]], headers=["姓名"]), "", b"", add=noise)
    parts = zipfile.ZipFile(io.BytesIO(content)).infolist()
    for info in parts:  # no part is a bomb by its size or its ratio ...
        assert info.file_size < settings.ZHUCUN_IMPORT_MAX_UNPACKED
        assert info.file_size / max(info.compress_size, 1) < settings.ZHUCUN_IMPORT_MAX_RATIO
    assert sum(i.file_size for i in parts) > settings.ZHUCUN_IMPORT_MAX_UNPACKED  # ... together
    assert "解压后超过 2 MB" in refused(content)
    settings.ZHUCUN_IMPORT_MAX_UNPACKED = 4 * 2**20
    assert check_workbook(io.BytesIO(content), size=len(content))  # within the sum: accepted


def test_billion_laughs_is_refused_quickly():
    content = replace_part(
        xlsx([["x"]], headers=["姓名"]), "xl/worksheets/sheet1.xml", BILLION_LAUGHS
    )
    started = time.perf_counter()
    message = refused(content)
    assert time.perf_counter() - started < 1.0
    assert "XML 实体" in message


def test_the_reader_refuses_entities_too():
    """Defence in depth: a part is checked again when the reader opens it."""
    content = xlsx([["x"]], headers=["姓名"])
    book = Workbook(check_workbook(io.BytesIO(content), size=len(content)))
    book.zip = zipfile.ZipFile(
        io.BytesIO(replace_part(content, "xl/worksheets/sheet1.xml", BILLION_LAUGHS))
    )
    book._names = {i.filename: i for i in book.zip.infolist()}
    with pytest.raises(RefusedFileError, match="XML 实体"):
        book.sheet(book.sheets[0])


def test_external_entities_are_refused():
    evil = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b'<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">&e;'
        b"</styleSheet>"
    )
    content = replace_part(xlsx([["x"]], headers=["姓名"]), "xl/styles.xml", evil)
    assert "XML 实体" in refused(content)


def test_macros_are_refused():
    content = xlsx([["x"]], headers=["姓名"])
    with_vba = replace_part(content, "", b"", add={"xl/vbaProject.bin": b"\x00" * 100})
    assert "宏" in refused(with_vba)
    types = zipfile.ZipFile(io.BytesIO(content)).read("[Content_Types].xml")
    xlsm = types.replace(b"spreadsheetml.sheet.main+xml", b"ms-excel.sheet.macroEnabled.main+xml")
    assert "宏" in refused(replace_part(content, "[Content_Types].xml", xlsm))


def test_other_files_are_refused_with_a_hint():
    assert "不是 Excel 工作簿" in refused("姓名,身份证号\n张三,1".encode())
    assert "旧版 .xls" in refused(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)
    assert "已损坏" in refused(b"PK\x03\x04" + b"\x00" * 100)
    docx = replace_part(
        xlsx([["x"]], headers=["姓名"]),
        "[Content_Types].xml",
        b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        b'content-types"><Default Extension="xml" ContentType="application/xml"/></Types>',
    )
    assert "不是 .xlsx 工作簿" in refused(docx)


def test_limits_on_size_and_parts(settings):
    content = xlsx([["x"] * 5] * 50, headers=headers()[:5])
    settings.ZHUCUN_IMPORT_MAX_BYTES = len(content) - 1
    assert "文件过大" in refused(content)
    settings.ZHUCUN_IMPORT_MAX_BYTES = 10 * 2**20
    settings.ZHUCUN_IMPORT_MAX_ENTRIES = 3
    assert "部件" in refused(content)


def test_a_plain_workbook_passes():
    content = xlsx([["张三"]], headers=["姓名"])
    book = check_workbook(io.BytesIO(content), size=len(content))
    assert "xl/workbook.xml" in book.namelist()
