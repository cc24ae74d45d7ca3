"""Reading an imported CSV file: decoding, the header, rows keyed by column, cell checks that note
every problem with its line number."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Generic, TypeVar

from bot.errors import UserError

MAX_PROBLEMS = 50
MAX_TEXT_LENGTH = 200
MAX_DOMAIN_LENGTH = 253

DOMAIN = re.compile(
    r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})"
)
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

Row = TypeVar("Row")


class ImportFailed(UserError):
    """A file was not imported at all; `problems` says why, one line each, by line number."""

    def __init__(self, source: str, problems: list[str]):
        self.problems = capped(problems)
        if len(problems) == 1:
            super().__init__(f"{source}: nothing imported; {problems[0]}")
        else:
            super().__init__(
                f"{source}: nothing imported, {len(problems):,} problems; the first: {problems[0]}"
            )


def capped(problems: list[str], limit: int = MAX_PROBLEMS) -> list[str]:
    """Keeps the first `limit` problems and says how many more there are."""
    if len(problems) <= limit:
        return list(problems)
    return [*problems[:limit], f"… and {len(problems) - limit:,} more"]


@dataclass(frozen=True)
class Parsed(Generic[Row]):
    rows: list[Row]
    problems: list[str]
    columns: tuple[str, ...] = ()  # the columns the header names, normalised


@dataclass(frozen=True)
class CsvRow:
    line: int  # as a spreadsheet counts rows: the header is line 1
    cells: dict[str, str]  # wanted column -> stripped text ("" when the row is short)


def decode(data: bytes, *, source: str) -> str:
    """Decodes a file's bytes as UTF-8, with or without a byte-order mark."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        problem = (
            f"line {line}: not UTF-8 text (byte 0x{data[error.start]:02x}); save it as CSV UTF-8"
        )
        raise ImportFailed(source, [problem]) from None
    # UTF-16 text without a byte-order mark decodes as UTF-8 full of NULs; no database stores those.
    if "\0" in text:
        line = text.count("\n", 0, text.index("\0")) + 1
        problem = f"line {line}: holds NUL characters (UTF-16 text?); save it as CSV UTF-8"
        raise ImportFailed(source, [problem])
    return text


def column_name(heading: str) -> str:
    """Normalises a header cell: `Contact Name` and `contact-name` both mean contact_name."""
    return "_".join(heading.replace("\ufeff", "").casefold().replace("-", " ").split())


def read_table(
    text: str, *, required: tuple[str, ...], optional: tuple[str, ...] = ()
) -> Parsed[CsvRow]:
    """Splits CSV text into rows of the wanted columns, checking that the header names them."""
    expected = ",".join(required + optional)
    if not text.strip():
        return Parsed([], [f"the file is empty; its first line must be the header {expected}"])
    records: list[list[str]] = []
    try:
        records.extend(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as error:
        return Parsed([], [f"line {len(records) + 1}: not readable as CSV ({error})"])

    columns = tuple(column_name(cell) for cell in records[0])
    wanted = required + optional
    problems = []
    missing = [column for column in required if column not in columns]
    if missing:
        optional_note = f" ({', '.join(optional)} optional)" if optional else ""
        # Spreadsheets set to a European locale save CSV with semicolons.
        semicolons = "; separate the columns with commas" if ";" in ",".join(records[0]) else ""
        problems.append(
            f"line 1: missing column(s) {', '.join(missing)}; "
            f"the header must be {expected}{optional_note}{semicolons}"
        )
    for column in wanted:
        if columns.count(column) > 1:
            problems.append(f"line 1: column {column} appears {columns.count(column)} times")
    if problems:
        return Parsed([], problems, columns)

    positions = {column: columns.index(column) for column in wanted if column in columns}
    rows = []
    for line, record in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in record):
            continue
        cells = {
            column: record[index].strip() if index < len(record) else ""
            for column, index in positions.items()
        }
        rows.append(CsvRow(line, cells))
    return Parsed(rows, [], columns)


def shown(value: str, width: int = 40) -> str:
    """Quotes a cell for a problem message, shortening a long one."""
    return f"'{value if len(value) <= width else value[: width - 1] + '…'}'"


class RowCheck:
    """Reads one row's cells into values, noting each problem with the row's line number."""

    def __init__(self, row: CsvRow, problems: list[str]):
        self.line = row.line
        self.cells = row.cells
        self.problems = problems
        self.ok = True

    def cell(self, column: str) -> str:
        """Returns a cell's stripped text, "" when blank or absent."""
        return self.cells.get(column, "")

    def problem(self, text: str) -> None:
        """Notes a problem of this row."""
        self.problems.append(f"line {self.line}: {text}")
        self.ok = False

    def text(self, column: str, *, required: bool = True) -> str:
        """Returns a cell with its inner whitespace collapsed, within the length limit."""
        value = " ".join(self.cell(column).split())
        if not value and required:
            self.problem(f"{column} is blank")
        elif len(value) > MAX_TEXT_LENGTH:
            self.problem(f"{column} is {len(value)} characters long; at most {MAX_TEXT_LENGTH}")
        return value

    def choice(self, column: str, allowed: Iterable[str]) -> str:
        """Returns a cell that must be one of the allowed words, in any letter case."""
        allowed = tuple(allowed)
        value = self.cell(column)
        if value.casefold() in allowed:
            return value.casefold()
        problem = f"{column} is blank" if not value else f"{column} {shown(value)} is not valid"
        self.problem(f"{problem} (valid: {', '.join(allowed)})")
        return ""

    def domain(self, column: str) -> str:
        """Returns a domain name, lower-cased ("" when it is not one)."""
        value = self.cell(column).lower().removesuffix(".")
        if not value:
            self.problem(f"{column} is blank")
            return ""
        if len(value) > MAX_DOMAIN_LENGTH or not DOMAIN.fullmatch(value):
            self.problem(f"{column} {shown(value)} is not a domain such as contoso.onmicrosoft.com")
            return ""
        return value

    def day(self, column: str) -> date | None:
        """Returns a date written YYYY-MM-DD."""
        value = self.cell(column)
        if not value:
            self.problem(f"{column} is blank; write dates as YYYY-MM-DD")
            return None
        if ISO_DATE.fullmatch(value):
            try:
                return date.fromisoformat(value)
            except ValueError:
                self.problem(f"{column} {value} is not a day of the calendar")
                return None
        self.problem(f"{column} {shown(value)} is not a date written YYYY-MM-DD")
        return None
