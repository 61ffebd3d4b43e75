"""``equalities returns ...``: set up the returns database, submit, review, grant roles,
see the status and export the approved figures.

Exit codes: 0 done, 1 refused (a rejected return lists every problem; not allowed; a
return in the wrong state), 2 a usage error (bad arguments, unreadable file).
"""

from __future__ import annotations

import argparse
import csv
import getpass
import json
import sys
from datetime import date
from pathlib import Path
from typing import TextIO

from data import settings
from returns import db, service
from returns.indicators import IndicatorSetError, load_indicator_set
from returns.validate import looks_like_formula, month_of

EXIT_REFUSED = 1
EXIT_USAGE = 2
MAX_FILE_BYTES = 2 * 1024 * 1024
STATUS_COLUMNS = ("org_code", "month", "state", "due", "version", "return_id",
                  "submitted_by", "submitted_at", "reviewed_by", "reviewed_at", "comment")


class Usage(Exception):
    """A bad argument: one line on stderr, exit 2."""


def add_parser(sub: argparse._SubParsersAction, help_text: str) -> None:
    """Register ``returns`` and its sub-commands on the ``equalities`` parser."""
    p = sub.add_parser("returns", help=help_text, description="Monthly returns of a "
                       "network's local indicators. The database is DATABASE_URL "
                       "(PostgreSQL) if set, else returns/returns.sqlite in the store folder.")
    rsub = p.add_subparsers(dest="returns_command", required=True)

    q = rsub.add_parser("init", help="create or upgrade the database; define an indicator "
                        "set or seed the demo network")
    q.add_argument("--set", dest="set_file", metavar="FILE", help="indicator set (TOML) to "
                   "define as a new version")
    q.add_argument("--demo", action="store_true", help="replace the database's content with "
                   "the demo network and a year of its returns")
    q.add_argument("--user", help="who defines the set (default: your login name); once a "
                   "reviewer exists, it must be a reviewer")
    q.set_defaults(returns_func=cmd_init)

    q = rsub.add_parser("submit", help="submit a provider's return for a month (CSV)")
    q.add_argument("--user", required=True)
    q.add_argument("--org", required=True, help="organisation code")
    q.add_argument("--month", required=True, help="YYYY-MM")
    q.add_argument("file", metavar="FILE")
    q.set_defaults(returns_func=cmd_submit)

    q = rsub.add_parser("template", help="the CSV a provider fills in for a month")
    q.add_argument("--org", required=True, help="organisation code")
    q.add_argument("--month", required=True, help="YYYY-MM")
    q.add_argument("--out", help="file to write (default: standard output)")
    q.set_defaults(returns_func=cmd_template)

    q = rsub.add_parser("status", help="each provider's return for each month: approved, "
                        "submitted, sent back, late, missing or not due")
    q.add_argument("--user", help="as this user sees it (default: every provider)")
    q.add_argument("--today", help="YYYY-MM-DD (default: today)")
    q.add_argument("--format", choices=["table", "csv", "json"], default="table")
    q.set_defaults(returns_func=cmd_status)

    q = rsub.add_parser("history", help="every version of a provider's return for a month")
    q.add_argument("--user", required=True)
    q.add_argument("--org", required=True)
    q.add_argument("--month", required=True, help="YYYY-MM")
    q.add_argument("--format", choices=["table", "csv", "json"], default="table")
    q.set_defaults(returns_func=cmd_history)

    q = rsub.add_parser("approve", help="approve a return waiting for review")
    q.add_argument("--user", required=True)
    q.add_argument("id", type=int, metavar="ID")
    q.add_argument("--comment", default="")
    q.set_defaults(returns_func=cmd_review, state=service.APPROVED)

    q = rsub.add_parser("send-back", help="send a return back to its provider, saying why")
    q.add_argument("--user", required=True)
    q.add_argument("id", type=int, metavar="ID")
    q.add_argument("--comment", required=True)
    q.set_defaults(returns_func=cmd_review, state=service.SENT_BACK)

    q = rsub.add_parser("grant", help="give a user a role: submitter (for one organisation) "
                        "or reviewer")
    q.add_argument("--user", required=True)
    q.add_argument("--role", required=True, choices=service.ROLES)
    q.add_argument("--org", help="the submitter's organisation code")
    q.set_defaults(returns_func=cmd_grant)

    q = rsub.add_parser("export", help="the approved figures (latest approved version of "
                        "each provider's month)")
    q.add_argument("--format", choices=["csv", "json"], default="csv")
    q.add_argument("--out", help="file to write (default: standard output)")
    q.set_defaults(returns_func=cmd_export)

    q = rsub.add_parser("publish", help="publish the approved returns into the store (a new "
                        "build sharing the national files; done after every approval)")
    q.set_defaults(returns_func=cmd_publish)

    q = rsub.add_parser("report", help="the network's annual report (PDF or PowerPoint)")
    q.add_argument("--year", required=True, help="financial year, e.g. 2024-25")
    q.add_argument("--out", required=True, type=Path, help="file ending .pdf or .pptx")
    q.add_argument("--user", required=True, help="a reviewer (reads every provider's status)")
    q.set_defaults(returns_func=cmd_report)

    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run a ``returns`` sub-command, turning refusals into messages and exit codes."""
    try:
        with settings.data_dir_set_to(getattr(args, "data_dir", None)):
            return args.returns_func(args)
    except Usage as error:
        _error(f"error: {error}")
        return EXIT_USAGE
    except service.ReturnRejected as error:
        _error(f"refused: {error}")
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_REFUSED
    except (service.NotAllowed, service.ReturnsError) as error:
        _error(f"refused: {error}")
        return EXIT_REFUSED


def cmd_init(args: argparse.Namespace) -> int:
    if args.set_file and args.demo:
        raise Usage("give --set FILE or --demo, not both")
    target = _engine(args)
    if args.demo:
        from returns import demo

        organisations = _organisations(args.data_dir)
        found = demo.seed(target, organisations=organisations)
        print(f"seeded the demo network {found.network_code}: {len(found.providers())} "
              f"providers, {len(found.indicators)} indicators")
    elif args.set_file:
        try:
            found = load_indicator_set(args.set_file)
        except IndicatorSetError as error:
            raise Usage(str(error)) from None
        version = service.define(target, found, who=args.user or getpass.getuser())
        print(f"defined {found.network_code} indicator set version {version}: "
              f"{len(found.indicators)} indicators, {len(found.providers())} providers")
    print(f"returns database ready: {target.url.render_as_string(hide_password=True)}")
    return 0


def cmd_submit(args: argparse.Namespace) -> int:
    month = _month(args.month)
    path = Path(args.file)
    raw = _read(path)
    version = service.submit(_engine(args), args.user, args.org, month, raw,
                             filename=path.name)
    print(f"submitted version {version.version} of {version.org_code}'s return for "
          f"{month:%Y-%m} (id {version.id}), waiting for review: {version.changes}")
    return 0


def cmd_template(args: argparse.Namespace) -> int:
    found = service.current_set(_engine(args))
    if found is None:
        raise service.ReturnsError("no indicator set is defined yet: run `equalities returns "
                                   "init --set FILE`")
    text = service.template(found, args.org, _month(args.month))
    with _output(args.out) as out:
        out.write(text)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    today = _day(args.today) if args.today else date.today()
    target = _engine(args)
    cells = (service.status(target, args.user, today=today) if args.user
             else service.network_status(target, today=today))
    records = [{c: getattr(cell, c) for c in STATUS_COLUMNS} for cell in cells]
    _write(records, STATUS_COLUMNS, args.format, sys.stdout)
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    versions = service.history(_engine(args), args.user, args.org, _month(args.month))
    columns = ("id", "version", "state", "submitted_by", "submitted_at", "filename",
               "reviewed_by", "reviewed_at", "comment", "changes", "superseded")
    _write([{c: getattr(v, c) for c in columns} for v in versions], columns, args.format,
           sys.stdout)
    return 0


def cmd_review(args: argparse.Namespace) -> int:
    target = _engine(args)
    if args.state == service.APPROVED:
        version = service.approve(target, args.user, args.id, comment=args.comment)
        done = "approved"
    else:
        version = service.send_back(target, args.user, args.id, comment=args.comment)
        done = "sent back"
    print(f"{done} version {version.version} of {version.org_code}'s return for "
          f"{version.month:%Y-%m} (id {version.id})")
    if args.state == service.APPROVED:
        _publish(target, args)
    return 0


def cmd_grant(args: argparse.Namespace) -> int:
    found = service.grant(_engine(args), args.user, args.role, args.org)
    where = f" for {found.org_code}" if found.org_code else ""
    print(f"{found.user} is a {found.role}{where}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    frame = service.approved_rows(_engine(args))
    with _output(args.out) as out:
        _write(frame.to_dicts(), frame.columns, args.format, out)
    if args.out:
        print(f"wrote {frame.height:,} approved figures to {args.out}")
    return 0


def cmd_publish(args: argparse.Namespace) -> int:
    if _publish(_engine(args), args) is None:
        raise service.ReturnsError("no indicator set is defined: nothing to publish")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from export.commands import write_atomically
    from returns import report

    kind = {".pdf": "pdf", ".pptx": "pptx"}.get(args.out.suffix.lower())
    if kind is None:
        raise Usage(f"--out must end in .pdf or .pptx: {args.out}")
    try:
        made = report.annual(_engine(args), args.year, who=args.user)
    except report.ReportError as error:
        raise Usage(str(error)) from None
    write_atomically(args.out, report.render(made, kind))
    print(f"wrote {args.out}")
    return 0


# -- helpers ----------------------------------------------------------------------------


def _publish(target, args: argparse.Namespace):
    """Publish the approved figures into the store, when there is one; the new build."""
    from data import store
    from returns import publish

    root = Path(args.data_dir) if getattr(args, "data_dir", None) else None
    if not store.exists(root):
        print("no store to publish into yet: the approved figures wait in the database")
        return None
    try:
        build = publish.publish(target, root)
    except (publish.PublishError, store.StoreError) as error:
        raise service.ReturnsError(f"the approved figures were not published ({error}); "
                                   "the previous store stays current: run `equalities "
                                   "returns publish` again") from None
    if build is not None:
        print(f"published the approved figures in store build {build.name}")
        from cli import warm_store

        warm_store(root)
    return build


def _engine(args: argparse.Namespace):
    data_dir = Path(args.data_dir) if getattr(args, "data_dir", None) else None
    return db.engine(db.database_url(data_dir))


def _organisations(data_dir: str | None):
    """The store's organisations, or None when there is no store (the demo then uses the
    providers written in its TOML file)."""
    from data import store

    try:
        return store.load_store(Path(data_dir) if data_dir else None).organisations
    except store.StoreError:
        return None


def _month(text: str) -> date:
    found = month_of(text)
    if found is None:
        raise Usage(f"--month {text!r}: write the month as YYYY-MM, e.g. 2024-05")
    return found


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Usage(f"--today {text!r}: write the day as YYYY-MM-DD") from None


def _read(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise Usage(f"cannot read {path}: {error.strerror or error}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise Usage(f"{path} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB: a return "
                    "holds a few hundred rows")
    return raw


class _output:
    """Standard output, or a file opened for writing (UTF-8, newline as written)."""

    def __init__(self, path: str | None):
        self.path = path
        self.handle: TextIO | None = None

    def __enter__(self) -> TextIO:
        if not self.path:
            return sys.stdout
        try:
            self.handle = open(self.path, "w", encoding="utf-8", newline="")
        except OSError as error:
            raise Usage(f"cannot write {self.path}: {error.strerror or error}") from None
        return self.handle

    def __exit__(self, *_exc) -> None:
        if self.handle is not None:
            self.handle.close()


def _plain(value: object) -> object:
    if isinstance(value, date):
        return value.isoformat(sep=" ") if hasattr(value, "hour") else value.isoformat()
    return value


def _cell(value: object) -> str:
    value = _plain(value)
    if value is None:
        return ""
    text = str(value).lower() if isinstance(value, bool) else str(value)
    return "'" + text if looks_like_formula(text) else text


def _write(records: list[dict], columns, fmt: str, out: TextIO) -> None:
    columns = list(columns)
    if fmt == "json":
        json.dump([{c: _plain(r.get(c)) for c in columns} for r in records], out, indent=2,
                  ensure_ascii=False)
        out.write("\n")
    elif fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([_cell(r.get(c)) for c in columns] for r in records)
    else:
        cells = [[_cell(r.get(c)) for c in columns] for r in records]
        widths = [max([len(c), *(len(row[i]) for row in cells)]) for i, c in enumerate(columns)]
        out.write("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()
                  + "\n")
        for row in cells:
            out.write("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()
                      + "\n")


def _error(message: str) -> None:
    print(f"equalities returns: {message}", file=sys.stderr)
