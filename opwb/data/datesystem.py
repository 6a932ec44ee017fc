"""A workbook's date system: the day its serial date numbers count from.

Excel stores a date as a number of days (a *serial*); the day serial 0 stands for depends
on the workbook. Windows Excel's **1900 date system** counts from 1899-12-30 (for every
serial from 61, 1900-03-01, on: Excel's phantom 1900-02-29 is why it is not 1899-12-31);
a workbook flagged ``date1904`` — Mac Excel's default until Excel 2016, and kept by any
workbook first made there — uses the **1904 date system**, counting from 1904-01-01, so
the same number is a date 1,462 days (4 years and a day) later. An OpenDocument spreadsheet
states its own null date (1899-12-30 by default).

A cell formatted as a date is converted by the workbook reader, which knows the system; a
date stored as a plain number (a column formatted "General") is converted by opwb, which
therefore reads the system from the file: :func:`serial_epoch`.

Examples
--------
>>> from_serial(38559, EPOCH_1900), from_serial(38559 - 1462, EPOCH_1904)
(datetime.date(2005, 7, 26), datetime.date(2005, 7, 26))
"""
from __future__ import annotations

import datetime as _dt
import struct
import zipfile
from pathlib import Path
from xml.etree import ElementTree

__all__ = ["EPOCH_1900", "EPOCH_1904", "serial_epoch", "from_serial", "date_system_name"]

#: Day 0 of the 1900 date system (Windows Excel; valid from serial 61, 1900-03-01).
EPOCH_1900 = _dt.date(1899, 12, 30)
#: Day 0 of the 1904 date system (Mac Excel; workbooks flagged ``date1904``).
EPOCH_1904 = _dt.date(1904, 1, 1)


def from_serial(serial: float, epoch: _dt.date = EPOCH_1900) -> _dt.date:
    """The calendar date of a serial date number (the time of day, its fraction, dropped).

    Raises ``OverflowError`` for a serial beyond the calendar (year 9999).
    """
    return epoch + _dt.timedelta(days=int(serial // 1))


def date_system_name(epoch: _dt.date) -> str:
    """How a message names a date system: ``"1900"``, ``"1904"`` or the null date."""
    if epoch == EPOCH_1900:
        return "the 1900 date system"
    if epoch == EPOCH_1904:
        return "the 1904 date system (Mac Excel)"
    return f"the date system counting from {epoch.isoformat()}"


def serial_epoch(path: Path, kind: str, workbook=None) -> _dt.date:
    """Day 0 of a workbook's serial dates.

    Parameters
    ----------
    path : pathlib.Path
        The workbook.
    kind : {'xlsx', 'xls', 'xlsb', 'ods'}
        As returned by :func:`opwb.data.sniff.identify`.
    workbook : openpyxl.Workbook, optional
        For an .xlsx, the workbook already opened (its ``epoch`` is read).

    Returns
    -------
    datetime.date
        :data:`EPOCH_1904` for a workbook flagged ``date1904`` (.xlsx, .xlsm: openpyxl's
        ``Workbook.epoch``; .xls: the ``DATEMODE`` record; .xlsb: the ``BrtWbProp`` flag),
        an .ods file's ``table:null-date``, else :data:`EPOCH_1900`. A file whose flag cannot
        be found is read in the 1900 system, Excel's default.
    """
    if kind == "xlsx":
        epoch = getattr(workbook, "epoch", None)
        return EPOCH_1904 if epoch is not None and epoch.date() == EPOCH_1904 else EPOCH_1900
    try:
        if kind == "xls":
            return EPOCH_1904 if _xls_1904(path.read_bytes()) else EPOCH_1900
        if kind == "xlsb":
            with zipfile.ZipFile(path) as zf:
                return EPOCH_1904 if _xlsb_1904(zf.read("xl/workbook.bin")) else EPOCH_1900
        if kind == "ods":
            return _ods_null_date(path)
    except (KeyError, ValueError, IndexError, struct.error, zipfile.BadZipFile,
            ElementTree.ParseError, OSError):
        pass  # the reader itself reports a damaged file; its dates are Excel's default
    return EPOCH_1900


# -- .xlsb: BrtWbProp (record 153), flag bit 0 = f1904 ---------------------------------------

def _xlsb_1904(data: bytes) -> bool:
    i = 0
    while i < len(data):
        kind, i = _varint(data, i, 2)
        size, i = _varint(data, i, 4)
        if kind == 153:                        # BrtWbProp
            return bool(struct.unpack_from("<I", data, i)[0] & 1)
        i += size
    return False


def _varint(data: bytes, i: int, most: int) -> tuple[int, int]:
    value = 0
    for k in range(most):
        b = data[i]
        i += 1
        value |= (b & 0x7F) << (7 * k)
        if not b & 0x80:
            break
    return value, i


# -- .xls: the DATEMODE record (0x0022) of the workbook globals -------------------------------

def _xls_1904(raw: bytes) -> bool:
    stream = _cfb_stream(raw, ("Workbook", "Book"))
    i = 0
    while i + 4 <= len(stream):
        kind, size = struct.unpack_from("<HH", stream, i)
        if kind == 0x0022 and size >= 2:       # DATEMODE
            return struct.unpack_from("<H", stream, i + 4)[0] == 1
        if kind == 0x000A:                     # EOF of the globals substream
            break
        i += 4 + size
    return False


_FREE, _END = 0xFFFFFFFF, 0xFFFFFFFE


def _cfb_stream(raw: bytes, names: tuple[str, ...]) -> bytes:
    """A stream of an OLE2 compound file (MS-CFB), by name: enough of the format to read a
    workbook's stream, none of the rest (no writing, no storages below the root)."""
    sector = 1 << struct.unpack_from("<H", raw, 0x1E)[0]
    mini = 1 << struct.unpack_from("<H", raw, 0x20)[0]
    n_fat, first_dir = struct.unpack_from("<II", raw, 0x2C)
    cutoff, first_minifat, _n_minifat, first_difat, n_difat = \
        struct.unpack_from("<IIIII", raw, 0x38)

    def read(n: int) -> bytes:
        start = (n + 1) * sector
        return raw[start:start + sector]

    difat = [x for x in struct.unpack_from("<109I", raw, 0x4C) if x not in (_FREE, _END)]
    nxt = first_difat
    for _ in range(n_difat):
        if nxt in (_FREE, _END):
            break
        block = struct.unpack(f"<{sector // 4}I", read(nxt))
        difat += [x for x in block[:-1] if x not in (_FREE, _END)]
        nxt = block[-1]
    fat = []
    for n in difat[:n_fat]:
        fat += struct.unpack(f"<{sector // 4}I", read(n))

    def chain(start: int, table: list[int]) -> list[int]:
        out, n = [], start
        while n < len(table) and len(out) <= len(table):
            out.append(n)
            n = table[n]
        return out

    directory = b"".join(read(n) for n in chain(first_dir, fat))
    entries = {}
    for k in range(len(directory) // 128):
        e = directory[128 * k:128 * (k + 1)]
        length = struct.unpack_from("<H", e, 0x40)[0]
        name = e[:max(length - 2, 0)].decode("utf-16-le", "replace")
        start, size = struct.unpack_from("<IQ", e, 0x74)
        entries.setdefault(name, (e[0x42], start, size & 0xFFFFFFFF if sector == 512 else size))
    root = next((v for v in entries.values() if v[0] == 5), None)
    if root is None:
        raise KeyError("Root Entry")
    for name in names:
        if name in entries:
            _, start, size = entries[name]
            break
    else:
        raise KeyError(names)
    if size >= cutoff:
        return b"".join(read(n) for n in chain(start, fat))[:size]
    minifat: list[int] = []
    for n in chain(first_minifat, fat):
        minifat += struct.unpack(f"<{sector // 4}I", read(n))
    ministream = b"".join(read(n) for n in chain(root[1], fat))
    return b"".join(ministream[n * mini:(n + 1) * mini] for n in chain(start, minifat))[:size]


# -- .ods: table:null-date --------------------------------------------------------------------

_TABLE_NS = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"


def _ods_null_date(path: Path) -> _dt.date:
    with zipfile.ZipFile(path) as zf, zf.open("content.xml") as fh:
        for _, element in ElementTree.iterparse(fh, events=("start",)):
            if element.tag == f"{{{_TABLE_NS}}}null-date":
                value = element.get(f"{{{_TABLE_NS}}}date-value", "1899-12-30")
                return _dt.date.fromisoformat(value[:10])
            if element.tag == f"{{{_TABLE_NS}}}table":   # the settings come before the sheets
                break
    return EPOCH_1900
