"""The ``equalities`` commands: each name and its one-line help, in the order they are listed.

The command line builds its parser from this list and the About page shows it, so the two
always agree (a test checks that every parser command is here).
"""

from __future__ import annotations

COMMANDS: dict[str, str] = {
    "build-demo": "simulate the synthetic England demo store",
    "info": "what the store holds",
    "list-metrics": "metrics in the registry",
    "list-orgs": "organisations in the store",
    "list-periods": "periods available for a metric",
    "compute": "compute a breakdown, inequality index, trend or benchmark as CSV or JSON",
    "export": "export a view (PDF/PNG/slides) or a trust's board summary or full pack",
    "serve": "serve the dashboard",
    "warm": "save the first view of every page with the published build, so a new server "
    "answers them at once (done by every command that publishes)",
    "hash-password": "hash a password for EQUALITIES_USERS (sign-in with "
    "EQUALITIES_AUTH=basic)",
    "ingest": "build a real store from published files (NHS annual MSDS and monthly MSMS "
    "files, CSV or XLSX; MBRRACE-UK trust CSV and comparator groups; ODS etr.csv)",
    "build-real": "build the real store from the project's NHS England files (data/real), "
    "with ODS and MBRRACE-UK files from a folder when present (--from, "
    "EQUALITIES_REALDATA_DIR or ../shared/realdata)",
    "returns": "monthly returns of the network's local indicators: set up, submit, review, "
    "grant roles, status and export",
}


def sentence(name: str) -> str:
    """The command's help as a sentence: capital first, full stop last."""
    text = COMMANDS[name].strip().rstrip(".")
    return f"{text[:1].upper()}{text[1:]}."
