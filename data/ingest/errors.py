"""Problems found in an input file, each pinned to file, line, column and value."""

from __future__ import annotations

from dataclasses import dataclass

MAX_LISTED = 20


@dataclass(frozen=True)
class Problem:
    """One bad cell or row. ``line`` is 1-based as an editor shows it (the header is line 1)."""

    file: str
    line: int | None
    column: str | None
    value: str | None
    message: str

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line is not None else "")
        cell = f" column {self.column!r}" if self.column else ""
        value = f" value {self.value!r}" if self.value is not None else ""
        return f"{where}:{cell}{value}: {self.message}"


class IngestError(Exception):
    """The input was refused; ``problems`` says where and why."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__(self.summary())

    @property
    def file(self) -> str | None:
        return self.problems[0].file if self.problems else None

    @property
    def line(self) -> int | None:
        return self.problems[0].line if self.problems else None

    @property
    def column(self) -> str | None:
        return self.problems[0].column if self.problems else None

    @property
    def value(self) -> str | None:
        return self.problems[0].value if self.problems else None

    def summary(self) -> str:
        files = sorted({p.file for p in self.problems})
        return (f"{len(self.problems)} problem(s) in {len(files)} file(s) "
                f"({', '.join(files)}); nothing was written")

    def listing(self, limit: int = MAX_LISTED) -> list[str]:
        """The problems, one a line, capped at ``limit`` with a count of the rest."""
        lines = [str(p) for p in self.problems[:limit]]
        if len(self.problems) > limit:
            lines.append(f"... and {len(self.problems) - limit} more")
        return lines
