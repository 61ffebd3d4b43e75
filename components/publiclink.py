"""Links that work from paper: a view's path made absolute with the dashboard's public address
(``EQUALITIES_PUBLIC_URL``), or said to be a path where no address is configured."""

from __future__ import annotations

from data import settings

NO_ADDRESS = ("(a path on this dashboard: set EQUALITIES_PUBLIC_URL to print the full "
              "address)")


def absolute(path: str) -> str | None:
    """``path`` (with its query) under the public address, or None when none is set."""
    base = settings.public_url()
    return f"{base}{path}" if base else None


def address(path: str) -> str:
    """``path`` under the public address where one is set, else ``path`` itself (for lists
    of links that say once, with :func:`note`, why they are paths)."""
    return absolute(path) or path


def note() -> str | None:
    """Why printed links are paths (None when the public address is set)."""
    return None if settings.public_url() else \
        "Links are paths on this dashboard: set EQUALITIES_PUBLIC_URL to print full addresses."


def printed(path: str) -> str:
    """``path`` as printed: its full address, or the path and a note saying why not."""
    return absolute(path) or f"{path} {NO_ADDRESS}"
