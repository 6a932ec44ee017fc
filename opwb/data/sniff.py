"""What a file really is, from its contents (not its name).

Banks' systems and Excel write files whose name does not say what they are: "Excel"
downloads that are HTML tables or Excel 2003 XML named ``.xls``, workbooks renamed ``.csv``,
zip archives, password-protected workbooks, Hangul (HWP) documents. :func:`identify` looks at
the bytes and returns the kind of reader a file needs, or raises :class:`opwb.DataError`
saying what the file is and what opwb expected.
"""
from __future__ import annotations

import zipfile
from pathlib import Path

from opwb.data.errors import DataError, Problem

__all__ = ["identify", "KINDS"]

#: Kinds :func:`identify` returns: delimited text, Office Open XML workbooks (.xlsx/.xlsm),
#: Excel 97-2003 (.xls), Excel binary (.xlsb) and OpenDocument (.ods) workbooks.
KINDS = ("text", "xlsx", "xls", "xlsb", "ods")

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_EXPECTED = ("expected a CSV or tab-delimited text file or an Excel workbook "
             "(.xlsx, .xlsm, .xls, .xlsb, .ods)")
_SAVE_AS = "open it in Excel and save it as an Excel workbook (.xlsx) or CSV"


def identify(path: Path) -> str:
    """The kind of reader ``path`` needs, judged from its contents.

    Parameters
    ----------
    path : pathlib.Path
        An existing file.

    Returns
    -------
    str
        One of :data:`KINDS`.

    Raises
    ------
    opwb.DataError
        For a file opwb cannot read as a table, saying what it is: an HTML page, an Excel
        2003 XML spreadsheet, a web archive (MHTML), a PDF, a Word/PowerPoint/HWP document,
        a password-protected workbook, a zip archive of other files, a damaged zip, or a
        binary file of unknown format.

    Examples
    --------
    >>> import opwb
    >>> identify(opwb.data_path("losses.csv"))
    'text'
    """
    raw = path.read_bytes()
    head = raw[:4096]
    if head.startswith(_OLE2):
        return _ole2_kind(path, raw)
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return _zip_kind(path)
    what = _text_impostor(head)
    if what:
        raise _refuse(path, f"the file is {what}, not a table opwb reads; {_EXPECTED}: "
                            + _SAVE_AS)
    return "text"


def _refuse(path: Path, message: str) -> DataError:
    return DataError([Problem(path.name, "file", None, message)])


def _ole2_kind(path: Path, raw: bytes) -> str:
    """OLE2 compound files: Excel 97-2003, but also encrypted Office files, Word, HWP."""
    def has_stream(name: str) -> bool:
        return name.encode("utf-16-le") + b"\x00\x00" in raw

    if has_stream("EncryptedPackage"):
        raise _refuse(path, "the workbook is password-protected (encrypted); remove the "
                            "password in Excel (File > Info > Protect Workbook > Encrypt with "
                            "Password, clear it) and save it again")
    if has_stream("Workbook") or has_stream("Book"):
        return "xls"
    if has_stream("WordDocument"):
        what = "a Word 97-2003 document (.doc)"
    elif has_stream("FileHeader") and has_stream("BodyText"):
        what = "a Hangul (HWP) document"
    elif has_stream("PowerPoint Document"):
        what = "a PowerPoint 97-2003 presentation"
    else:
        what = ("an OLE2 compound file (the container of .xls workbooks) in which no "
                "workbook is found: another kind of document, or a damaged or incomplete one")
    raise _refuse(path, f"the file is {what}, not a table; {_EXPECTED}")


def _zip_kind(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
            mimetype = zf.read("mimetype")[:100] if "mimetype" in names else b""
    except (zipfile.BadZipFile, OSError) as exc:
        raise _refuse(path, f"the file is a damaged or incomplete zip archive ({exc}); an "
                            ".xlsx workbook is a zip archive: copy or download it again") \
            from None
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "xl/workbook.bin" in names:
        return "xlsb"
    if mimetype.startswith(b"application/vnd.oasis.opendocument.spreadsheet"):
        return "ods"
    if "word/document.xml" in names:
        what = "a Word document (.docx)"
    elif any(n.startswith("ppt/") for n in names):
        what = "a PowerPoint presentation (.pptx)"
    elif mimetype.startswith(b"application/vnd.oasis.opendocument"):
        what = f"an OpenDocument file of type {mimetype.decode('ascii', 'replace')}"
    elif any(n.startswith("Contents/") for n in names) and "version.xml" in names:
        what = "a Hangul (HWPX) document"
    else:
        files = [n for n in names if not n.endswith("/")]
        shown = ", ".join(files[:3]) + (", ..." if len(files) > 3 else "")
        what = f"a zip archive of {len(files)} file(s) ({shown})"
        raise _refuse(path, f"the file is {what}, not a workbook; extract the table from it "
                            "and load that file")
    raise _refuse(path, f"the file is {what}, not a table; {_EXPECTED}")


def _text_impostor(head: bytes) -> str | None:
    """What a file that is not a delimited table is, or None if it may be one."""
    if head.startswith(b"%PDF-"):
        return "a PDF document"
    if head.startswith(b"HWP Document File"):
        return "a Hangul (HWP 3) document"
    for bom, enc in ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if head.startswith(bom):
            text = head[2:len(head) - len(head) % 2].decode(enc, "replace")
            break
    else:
        if b"\x00" in head and not _looks_utf16(head):
            return "a binary file of unknown format (it contains NUL bytes)"
        text = head.decode("utf-8", "replace")
    start = text.lstrip("\ufeff \t\r\n").lower()
    if start.startswith("<?xml") and "urn:schemas-microsoft-com:office:spreadsheet" in start:
        return "an Excel 2003 XML Spreadsheet (not supported)"
    if start.startswith(("<!doctype html", "<html", "<table", "<head", "<meta", "<body")):
        return "an HTML page (a web table, as some systems save their 'Excel' downloads)"
    if start.startswith("mime-version:") and "multipart/related" in start:
        return "a web archive (MHTML, as Excel's 'single file web page')"
    if start.startswith("<?xml"):
        return "an XML document"
    return None


def _looks_utf16(head: bytes) -> bool:
    """UTF-16 without a byte-order mark: mostly-ASCII text has a NUL in every other byte."""
    even, odd = head[0::2], head[1::2]
    return max(even.count(0), odd.count(0)) >= 0.3 * len(head) / 2
