"""What a returns operation can refuse: a bad return (every problem listed), a person
without the right role, or a request that makes no sense (no such return, wrong state)."""

from __future__ import annotations

from data.ingest.errors import Problem

__all__ = ["NotAllowed", "Problem", "ReturnRejected", "ReturnsError"]

MAX_LISTED = 20


class ReturnsError(ValueError):
    """A request the returns service refuses, in one readable sentence."""


class NotAllowed(PermissionError):
    """The person is unknown or their role does not allow this."""


class ReturnRejected(ReturnsError):
    """A return refused: ``problems`` lists each with file, line, column and value;
    nothing was written."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        files = sorted({p.file for p in self.problems})
        super().__init__(f"return refused: {len(self.problems)} problem(s) in "
                         f"{', '.join(files)}; nothing was written")

    def listing(self, limit: int = MAX_LISTED) -> list[str]:
        """The problems, one a line, capped at ``limit`` with a count of the rest."""
        lines = [str(p) for p in self.problems[:limit]]
        if len(self.problems) > limit:
            lines.append(f"... and {len(self.problems) - limit} more")
        return lines
