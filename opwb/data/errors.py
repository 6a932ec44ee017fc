"""Errors raised at opwb's data boundary."""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DataError", "Problem", "CellError", "RunStoreError"]


@dataclass(frozen=True)
class Problem:
    """One problem found in an input file.

    ``where`` is the position in the source as a person would look for it:
    ``"line 5"`` for a CSV file (the header is line 1), ``"row 5"`` for an
    Excel sheet (the header is row 1) or a SQL table (first record = row 1).
    """

    source: str
    where: str
    column: str | None
    message: str
    context: str | None = None  # e.g. "policy 'BBB-2005'"

    def __str__(self) -> str:
        parts = [self.source, self.where]
        if self.context:
            parts.append(self.context)
        if self.column is not None:
            parts.append(f"column '{self.column}'")
        return ", ".join(parts) + f": {self.message}"


class DataError(ValueError):
    """Invalid input data; the message names the file, line/row, column and expectation.

    ``problems`` holds every :class:`Problem` found (the message shows at most
    ``max_shown`` of them and counts the rest).
    """

    def __init__(self, problems: list[Problem] | str, *, max_shown: int = 20):
        if isinstance(problems, str):
            self.problems: list[Problem] = []
            super().__init__(problems)
            return
        self.problems = list(problems)
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} found in {self.problems[0].source}:"
        lines = [head] + [f"  {p}" for p in self.problems[:max_shown]]
        if n > max_shown:
            lines.append(f"  ... and {n - max_shown} more problem(s) not shown")
        super().__init__("\n".join(lines))


class CellError(ValueError):
    """A cell could not be parsed; the message says what was expected (a loader reports it
    at the cell's file, line or row and column)."""


class RunStoreError(ValueError):
    """A run store that cannot be used as asked: a newer or foreign database, an unknown
    run, a duplicate label, a run that cannot be recorded. The message names the store's
    URL (password masked)."""
