"""Delimited text files as Korean banks' systems and Excel write them.

Encodings: UTF-8 with or without BOM, CP949 (= EUC-KR extended; what Korean Excel's "CSV"
and "텍스트 (탭으로 분리)" write), UTF-16 with BOM (Excel's "유니코드 텍스트"/"Unicode text")
or without one. Delimiters: comma, tab or semicolon, judged from the header line (an Excel
``sep=`` first line is obeyed). A file that is not valid in the encoding it most likely is
gets one problem per bad line, naming the line and the byte.
"""
from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

from opwb.data.errors import DataError, Problem
from opwb.data.rawtable import LEADING_ROWS, Table, from_header_row

__all__ = ["decode_text", "detect_delimiter", "read_text"]

_NAMES = {"utf-8": "UTF-8", "cp949": "CP949 (EUC-KR)", "utf-16-le": "UTF-16 LE",
          "utf-16-be": "UTF-16 BE"}
_LINE = re.compile(rb"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
         (codecs.BOM_UTF16_BE, "utf-16-be"))


def decode_text(raw: bytes, name: str, encoding: str | None = None) -> tuple[str, str]:
    """Decode a text file's bytes; return ``(text without BOM, encoding used)``.

    Parameters
    ----------
    raw : bytes
        The whole file.
    name : str
        The file's name, for messages.
    encoding : str, optional
        Force an encoding (any Python codec name). By default a byte-order mark decides
        (UTF-8, UTF-16 LE/BE); without one, UTF-16 is recognised by its NUL bytes, then
        UTF-8 is tried and CP949.

    Returns
    -------
    (str, str)
        The text and the codec name used (``'utf-8'``, ``'cp949'``, ``'utf-16-le'``, ...).

    Raises
    ------
    opwb.DataError
        One problem per line that is not valid in the encoding the file most likely is
        (given, marked by a BOM, or the one most of its non-ASCII lines are in), naming the
        line, the offending byte, its position in the line and in the file, and which
        encoding the line would be read in, if any (a row pasted from another file) — also
        a line of UTF-8 Korean in a CP949 file that happens to be valid CP949 too (it would
        be read as other characters).

    Examples
    --------
    >>> decode_text("사건,금액\\n".encode("cp949"), "x.csv")
    ('사건,금액\\n', 'cp949')
    >>> decode_text(b"\\xef\\xbb\\xbfa,b\\n", "x.csv")
    ('a,b\\n', 'utf-8')
    >>> bad = "a,b\\n가,1\\n".encode() + "나,2\\n".encode("cp949")
    >>> decode_text(bad, "x.csv")
    Traceback (most recent call last):
    ...
    opwb.data.errors.DataError: 1 problem found in x.csv:
      x.csv, line 3: byte 0xb3 (byte 1 of the line, byte 11 of the file) is not valid UTF-8, the encoding of the file's other lines; the line reads as CP949 (EUC-KR), as if pasted from a file in that encoding: save the whole file in one encoding (e.g. Excel's "CSV UTF-8")
    """
    if encoding:
        enc = codecs.lookup(encoding).name
        body = raw[len(codecs.BOM_UTF8):] if enc == "utf-8" and raw.startswith(
            codecs.BOM_UTF8) else raw
        return _decode(body, raw, name, enc, "the encoding= given"), enc
    for bom, enc in _BOMS:
        if raw.startswith(bom):
            return _decode(raw[len(bom):], raw, name, enc,
                           "the encoding its byte-order mark declares"), enc
    if b"\x00" in raw[:4096]:
        enc = "utf-16-le" if raw[1::2].count(0) >= raw[0::2].count(0) else "utf-16-be"
        return _decode(raw, raw, name, enc, "the encoding its NUL bytes show"), enc
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text = raw.decode("cp949")
    except UnicodeDecodeError:
        pass
    else:
        _refuse_pasted_utf8(raw, name)
        return text, "cp949"
    enc = _most_likely(raw)
    if enc is None:
        return _decode(raw, raw, name, "utf-8", None), "utf-8"
    return _decode(raw, raw, name, enc, "the encoding of the file's other lines"), enc


def _most_likely(raw: bytes) -> str | None:
    """The encoding most of the file's non-ASCII lines are valid in: UTF-8 or CP949 (a line
    valid in UTF-8 counts for UTF-8, as CP949 Hangul practically never is); UTF-8 on a tie;
    None when no non-ASCII line is valid in either."""
    votes = {"utf-8": 0, "cp949": 0}
    for line in _LINE.findall(raw):
        if line.isascii():
            continue
        for enc in votes:
            try:
                line.decode(enc)
            except UnicodeDecodeError:
                continue
            votes[enc] += 1
            break
    if not any(votes.values()):
        return None
    return "utf-8" if votes["utf-8"] >= votes["cp949"] else "cp949"


_HANGUL = re.compile("[\uac00-\ud7a3]")


def _refuse_pasted_utf8(raw: bytes, name: str) -> None:
    """A file valid as CP949 (and not as UTF-8) may still hold lines written in UTF-8: UTF-8
    Korean is often valid CP949 too, and would be read as other, wrong Hangul and Hanja
    (mojibake). A line whose bytes are valid UTF-8 with Hangul in it is such a line (CP949
    text practically never is: its Hangul lead bytes are not UTF-8's). When the file's
    other non-ASCII lines are CP949 each of them is a problem; when most are UTF-8, the
    CP949 lines are (:func:`_decode` in UTF-8)."""
    utf8, cp949, offset = [], 0, 0
    for number, line in enumerate(_LINE.findall(raw), start=1):
        if not line.isascii():
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError:
                cp949 += 1
            else:
                if _HANGUL.search(text):
                    utf8.append((number, offset, line, text))
                else:
                    cp949 += 1
        offset += len(line)
    if not utf8:
        return
    if len(utf8) >= cp949:
        _decode(raw, raw, name, "utf-8", "the encoding of the file's other lines")
    problems = []
    for number, at, line, text in utf8:
        first = next(k for k, b in enumerate(line) if b >= 0x80)
        problems.append(Problem(name, f"line {number}", None, (
            f"byte {line[first]:#04x} (byte {first + 1} of the line, byte {at + first + 1} of "
            "the file) starts UTF-8 text in a file whose other lines are CP949 (EUC-KR): the "
            f"line reads as {_shorten(text.strip())!r} in UTF-8 and as other characters in "
            "CP949, as if pasted from a UTF-8 file: save the whole file in one encoding (e.g. "
            "Excel's \"CSV UTF-8\")")))
    raise DataError(problems)


def _shorten(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def _decode(body: bytes, raw: bytes, name: str, enc: str, why: str | None) -> str:
    """``body.decode(enc)``, or a problem for each line that is not valid in ``enc``.

    ``why`` says why ``enc`` was chosen; None when the file is valid in no encoding tried.
    """
    try:
        return body.decode(enc)
    except UnicodeDecodeError as exc:
        first = exc
    label = _NAMES.get(enc, enc)
    skip = len(raw) - len(body)
    if enc.startswith("utf-16"):  # lines cannot be split on bytes: name the first error
        line = _count_lines(body[:first.start].decode(enc)) + 1
        at = skip + first.start
        where = (f"the file ends in the middle of a character (byte {at + 1})"
                 if first.end >= len(body) and len(body) % 2 else
                 f"bytes {body[first.start:first.end].hex(' ')} (byte {at + 1} of the file)")
        raise DataError([Problem(name, f"line {line}", None,
                                 f"{where}: not valid {label}, {why}")])
    problems, offset = [], skip
    for number, line in enumerate(_LINE.findall(body), start=1):
        try:
            line.decode(enc)
        except UnicodeDecodeError as exc:
            where = _byte(exc, offset + exc.start)
            message = (f"{where} is not valid {label}, {why}{_reads_as(line, enc)}" if why
                       else f"{where} is valid neither as UTF-8 nor as CP949 (EUC-KR); pass "
                            "encoding=... if the file is in another encoding")
            problems.append(Problem(name, f"line {number}", None, message))
        offset += len(line)
    raise DataError(problems)


def _byte(exc: UnicodeDecodeError, offset: int) -> str:
    return (f"byte {exc.object[exc.start]:#04x} (byte {exc.start + 1} of the line, "
            f"byte {offset + 1} of the file)")


def _reads_as(line: bytes, enc: str) -> str:
    for other in ("utf-8", "cp949"):
        if other == enc:
            continue
        try:
            line.decode(other)
        except UnicodeDecodeError:
            continue
        return (f"; the line reads as {_NAMES[other]}, as if pasted from a file in that "
                "encoding: save the whole file in one encoding (e.g. Excel's \"CSV UTF-8\")")
    return ""


def _count_lines(text: str) -> int:
    return len(re.findall(r"\r\n|\r|\n", text))


_SEP_LINE = re.compile(r"^sep=(.)\s*$")


def detect_delimiter(line: str) -> str:
    """The delimiter of a header line: whichever of comma, tab and semicolon occurs most
    often outside double quotes (comma when none does).

    Examples
    --------
    >>> detect_delimiter("사건번호\\t사건유형\\t총손실금액")
    '\\t'
    >>> detect_delimiter('a;"b;c";d'), detect_delimiter("a,b"), detect_delimiter("abc")
    (';', ',', ',')
    """
    outside = re.sub(r'"[^"]*"', "", line)
    counts = {d: outside.count(d) for d in (",", "\t", ";")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_text(path: Path, encoding: str | None, header_row: int | None = None) -> Table:
    """Read a delimited text file into a :class:`~opwb.data.rawtable.Table`.

    Parameters
    ----------
    path : pathlib.Path
    encoding : str or None
        See :func:`decode_text`.
    header_row : int, optional
        The header's line (1 = the file's first line; lines above it, such as a title
        block, are ignored). By default the first non-blank line is the header.

    Returns
    -------
    Table
        ``unit`` ``"line"``: positions are the lines where records start.

    Raises
    ------
    opwb.DataError
        An undecodable file (see :func:`decode_text`), text that is not valid CSV, an empty
        file, or a ``header_row`` that is blank or past the end.

    Examples
    --------
    >>> import opwb
    >>> t = read_text(opwb.data_path("losses.csv"), None)
    >>> t.unit, t.header[0], t.rows[0][0]
    ('line', 'event_id', 2)
    """
    text, _ = decode_text(path.read_bytes(), path.name, encoding)
    lines = io.StringIO(text, newline="")
    sep = _SEP_LINE.match(lines.readline())
    if sep:  # Excel's "sep=;" hint line
        delimiter = sep.group(1)
    else:
        lines.seek(0)
        delimiter = detect_delimiter(_header_line(text, header_row))
    reader = csv.reader(lines, delimiter=delimiter)
    try:
        records = list(from_header_row(_records(reader, 2 if sep else 1), header_row,
                                       path.name, "line"))
    except csv.Error as exc:
        line = reader.line_num + (1 if sep else 0)
        raise DataError([Problem(path.name, f"line {line}", None,
                                 f"not valid CSV: {exc}")]) from None
    return _to_table(path.name, records)


def _records(reader: Iterator[list[str]], first: int) -> Iterator[tuple[int, list[str]]]:
    """(line where the record starts, fields) of every record, blank ones included."""
    start = first
    for record in reader:
        pos, start = start, reader.line_num + first
        yield pos, record


def _header_line(text: str, header_row: int | None) -> str:
    """The line the delimiter is judged from: line ``header_row``, else the first non-blank
    line, or, when it holds no delimiter (a title), the first of the next ones that does."""
    if header_row is not None:
        lines = re.split(r"\r\n|\r|\n", text)
        return lines[header_row - 1] if header_row <= len(lines) else ""
    candidates = [ln for ln in text.splitlines()[:200] if ln.strip()][:LEADING_ROWS]
    for line in candidates:
        if any(d in re.sub(r'"[^"]*"', "", line) for d in (",", "\t", ";")):
            return line
    return candidates[0] if candidates else ""


def _to_table(name: str, records: list[tuple[int, list[str]]]) -> Table:
    header, header_pos, rows, leading = None, None, [], []
    for pos, record in records:
        if not record or all(not f.strip() for f in record):
            continue
        if len(leading) < LEADING_ROWS:
            leading.append((pos, tuple(record)))
        if header is None:
            header, header_pos = _trim_header(record), pos
        else:
            rows.append((pos, _trim_row(record, len(header))))
    if header is None:
        raise DataError([Problem(name, "line 1", None,
                                 "the file is empty; expected a header row and data rows")])
    return Table(name, "line", header, header_pos, tuple(rows), leading=tuple(leading))


def _trim_header(record: list[str]) -> tuple[str, ...]:
    """Header names, without the empty fields Excel writes after the last column."""
    names = [f.strip() for f in record]
    while names and not names[-1]:
        names.pop()
    return tuple(names)


def _trim_row(record: list[str], width: int) -> tuple[str, ...]:
    """Drop empty fields beyond the header (Excel pads rows to its used range); any that
    hold a value stay, so the loader reports the field count."""
    while len(record) > width and not record[-1].strip():
        record = record[:-1]
    return tuple(record)
