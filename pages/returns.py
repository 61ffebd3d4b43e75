"""Regional returns: where each provider's monthly return of the network's local indicators
stands, what is due, and (signed in) submitting, reviewing and every version's history.

Answers "has every provider sent this month's return, what is late, what is waiting for
review, and what changed between versions?"

URL parameters: ``org`` (a provider's organisation code) and ``month`` (``YYYY-MM``): the
return opened. Without them a reviewer sees the oldest return waiting for review and a
submitter its own oldest return needing action. Who is signed in decides what is shown
(``REMOTE_USER``, set by ``web.auth``): a submitter sees only its own organisation's row,
a reviewer every provider; with sign-in off the page shows approved figures only.
"""

import base64
import binascii
import logging
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, ctx, dcc, html, no_update
from flask import has_request_context, request

from components import controls, ids, pagekit, viewstate
from components import returns as rc
from returns import publish
from returns.service import NotAllowed, ReturnRejected, ReturnsError
from views import returns as models
from views.returns import REVIEWER, SUBMITTER, ReturnsModel
from web import auth, layouts, warm

log = logging.getLogger(__name__)

dash.register_page(__name__, path="/returns", name="Returns",
                   title="Regional returns · Equalities", order=10,
                   canonical=lambda query: ReturnsView.parse(query)[0].search())

RETURNS_BODY = "returns-body"
RETURNS_MESSAGE = "returns-message"
RETURNS_ACCESS = "returns-access"
RETURNS_GRID = "returns-grid"
RETURNS_REMINDERS = "returns-reminders"
RETURNS_INDICATORS = "returns-indicators"
RETURNS_APPROVED = "returns-approved"
RETURNS_ORG = "returns-org"
RETURNS_MONTH = "returns-month"  # a reviewer's month, with RETURNS_ORG
RETURNS_SUBMIT_MONTH = "returns-submit-month"  # a submitter's month
RETURNS_TEMPLATE = "returns-template"
RETURNS_UPLOAD = "returns-upload"
RETURNS_PROBLEMS = "returns-problems"
RETURNS_WAITING = "returns-waiting"
RETURNS_FIGURES = "returns-figures"
RETURNS_HISTORY = "returns-history"
RETURNS_COMMENT = "returns-comment"
RETURNS_APPROVE = "returns-approve"
RETURNS_SEND_BACK = "returns-send-back"
RETURNS_REVIEWING = "returns-reviewing"  # the id of the version under review
RETURNS_REFUSED = "returns-refused"
TEMPLATE_PATH = "/returns/template.csv"
UPLOAD_MAX_BYTES = 1024 * 1024


@dataclass(frozen=True)
class ReturnsView:
    """The return opened: a provider and a month ("" for the reader's default)."""

    org: str = ""
    month: str = ""

    @classmethod
    def parse(cls, query: dict) -> tuple["ReturnsView", list[str]]:
        notices: list[str] = []
        indicator_set = models.indicator_set()
        providers = list(indicator_set.providers()) if indicator_set else []
        org = viewstate.choose(query, "org", providers, "", notices, "provider")
        months = [f"{m:%Y-%m}" for m in models.collected_months(indicator_set, today())
                  ] if indicator_set else []
        month = viewstate.choose(query, "month", months, "", notices, "month")
        return cls(org, month), notices

    def search(self) -> str:
        return viewstate.search({"org": self.org, "month": self.month})


def today() -> date:
    return date.today()


def current_user() -> str | None:
    """The signed-in user of this request, or None (sign-in off, no request, or the
    server's own export browser, which sees what anyone sees)."""
    if not has_request_context() or auth.load_config() is None:
        return None
    user = request.environ.get("REMOTE_USER")
    return None if not user or user == auth.EXPORT_USER else user


def model(view: ReturnsView, user: str | None) -> ReturnsModel:
    """The page's one call for a parsed view and reader."""
    return models.returns_model(user, view.org or None, models.parse_month(view.month),
                                today=today())


def href(org: str, month: date) -> str:
    return "/returns?" + urlencode({"org": org, "month": f"{month:%Y-%m}"})


def template_href(org: str, month: date) -> str:
    return f"{TEMPLATE_PATH}?" + urlencode({"org": org, "month": f"{month:%Y-%m}"})


# -- parts ------------------------------------------------------------------------------------


def access_note(m: ReturnsModel, signed_in: bool) -> dbc.Alert:
    """Who the page is showing things for, and what they can do here."""
    if not signed_in:
        return dbc.Alert(pagekit.content_markdown("returns", section="Sign in",
                                                  class_name="mb-0"),
                         color="info", id=RETURNS_ACCESS)
    if m.person is None:
        return dbc.Alert([html.Strong(f"Signed in as {m.user}. "),
                          pagekit.content_markdown("returns", section="No role",
                                                   class_name="mb-0")],
                         color="info", id=RETURNS_ACCESS)
    if m.role == SUBMITTER:
        what = f"submitter for {rc.org_words(m.person.org_code, m.names)}"
    else:
        what = "reviewer for every provider"
    return dbc.Alert([html.Strong(f"Signed in as {m.user}"), f", {what}."],
                     color="light", id=RETURNS_ACCESS, className="border")


def grid_link(m: ReturnsModel):
    """Which grid cells open a return: a reader's own (or, for a reviewer, every) return,
    and for anyone an approved one (its published figures)."""
    def link(cell) -> str | None:
        if m.may_open(cell.org_code) and cell.state != models.service.NOT_DUE:
            return href(cell.org_code, cell.month)
        return href(cell.org_code, cell.month) if cell.approved_version else None
    return link


def status_part(m: ReturnsModel) -> list:
    chosen = (m.org, m.month) if m.org and m.month else None
    who = "your organisation" if m.role == SUBMITTER else "each provider"
    caption = f"Monthly returns of {who}, {rc.month_words(m.months[0])} to " \
              f"{rc.month_words(m.months[-1])}" if m.months else "Monthly returns"
    cells = m.cells
    public = m.person is None
    key = rc.state_key(rc.PUBLIC_STATES if public else rc.STATES)
    return [
        html.P(rc.counts_sentence(cells, m.months) if not public else
               "Approved returns by provider and month. Select an approved one to see its "
               "figures."),
        rc.status_grid(cells, names=m.names, providers=m.providers, months=m.months,
                       href=grid_link(m), chosen=chosen, table_id=RETURNS_GRID,
                       caption=caption),
        key,
    ]


def month_options(m: ReturnsModel, *, ended_only: bool) -> list[dict]:
    months = [mo for mo in m.offered if not ended_only or models.month_ended(mo, m.today)]
    return [{"label": rc.month_words(mo), "value": f"{mo:%Y-%m}"} for mo in reversed(months)]


def submit_part(m: ReturnsModel) -> list:
    """The submitter's template and upload for the month chosen above."""
    org = m.person.org_code
    month = m.month
    if month is None or not models.month_ended(month, m.today):
        return [pagekit.content_markdown("returns", section="Submitting"),
                html.P("Choose the month of the return above.", className="small")]
    chosen = m.chosen_cell
    return [
        pagekit.content_markdown("returns", section="Submitting"),
        html.P([html.Strong(f"{rc.month_words(month)}: "), rc.cell_words(chosen)])
        if chosen else None,
        html.A(f"Download the template for {rc.month_words(month)} (CSV)",
               href=template_href(org, month), id=RETURNS_TEMPLATE, download="",
               className="btn btn-sm btn-outline-primary mb-2"),
        html.Div(dcc.Upload(
            html.Div([html.Strong("Drag your completed return here, or click to choose it"),
                      html.Br(),
                      html.Span(f"CSV, up to {UPLOAD_MAX_BYTES // 1024} KB; it is checked "
                                "before anything is stored", className="small")]),
            id=RETURNS_UPLOAD, accept=".csv", max_size=UPLOAD_MAX_BYTES, multiple=False,
            className="local-upload returns-upload", className_active="local-upload-active",
            className_reject="local-upload-reject"),
            **{"data-upload-label": "Choose your completed return (CSV file) to upload"}),
    ]


def controls_part(m: ReturnsModel) -> dbc.Card | None:
    """The return to open: a submitter chooses the month, a reviewer provider and month.
    Drawn once with the page (never again by an action), so choosing writes the URL."""
    if m.indicator_set is None or m.person is None:
        return None
    if m.role == SUBMITTER:
        return controls.card("Choose a return", dbc.Row(controls.labelled(
            "Month of the return", controls.dropdown(
                RETURNS_SUBMIT_MONTH, month_options(m, ended_only=True),
                f"{m.month:%Y-%m}" if m.month else None, placeholder="Choose a month"),
            RETURNS_SUBMIT_MONTH, 4)))
    return controls.card("Choose a return", chooser(m))


def waiting_part(m: ReturnsModel) -> html.Div:
    waiting = m.waiting
    if not waiting:
        return html.P("No return is waiting for review.", id=RETURNS_WAITING)
    items = [html.Li(dcc.Link(
        f"{rc.org_words(c.org_code, m.names)}, {rc.month_words(c.month)}: version "
        f"{c.version}, submitted by {c.submitted_by} on {rc.day_words(c.submitted_at)}",
        href=href(c.org_code, c.month))) for c in waiting]
    return html.Div([html.P(f"{len(waiting)} return{'s' if len(waiting) != 1 else ''} "
                            "waiting for review, oldest first:"),
                     html.Ul(items, id=RETURNS_WAITING)])


def chooser(m: ReturnsModel) -> dbc.Row:
    """A reviewer's choice of return: provider and month."""
    orgs = [{"label": rc.org_words(p, m.names), "value": p} for p in m.providers]
    return dbc.Row([
        controls.labelled("Provider", controls.dropdown(RETURNS_ORG, orgs, m.org,
                                                        placeholder="Choose a provider"),
                          RETURNS_ORG, 6),
        controls.labelled("Month", controls.dropdown(
            RETURNS_MONTH, month_options(m, ended_only=False),
            f"{m.month:%Y-%m}" if m.month else None, placeholder="Choose a month"),
            RETURNS_MONTH, 4),
    ])


def review_actions(m: ReturnsModel) -> html.Div | None:
    """Approve or send back the version shown, when it is waiting for a reviewer."""
    shown = m.shown
    if m.role != REVIEWER or shown is None or shown.state != models.service.SUBMITTED:
        return None
    return html.Div([
        html.H3(f"Review version {shown.version}", className="h6"),
        html.Label("Comment (required to send back: say what needs correcting)",
                   htmlFor=RETURNS_COMMENT, className="form-label"),
        dbc.Textarea(id=RETURNS_COMMENT, rows=3, maxLength=2000, className="mb-2"),
        dcc.Store(id=RETURNS_REVIEWING, data=shown.id),
        dbc.Button("Approve", id=RETURNS_APPROVE, color="primary", className="me-2"),
        dbc.Button("Send back", id=RETURNS_SEND_BACK, color="primary", outline=True),
    ], className="returns-review p-3 bg-white border rounded mb-3")


def opened_part(m: ReturnsModel) -> list:
    """The return opened: its figures (latest version), the review buttons, its history;
    or why it cannot be opened; or the approved figures for anyone."""
    if not (m.org and m.month):
        return [html.P("Choose a return in the table above to open it.", className="small")]
    title = f"{rc.org_words(m.org, m.names)}, {rc.month_words(m.month)}"
    parts: list = [html.H3(title, className="h5")]
    if m.refused:
        parts.append(dbc.Alert(m.refused, color="warning", id=RETURNS_REFUSED))
    if m.shown is not None:
        shown = m.shown
        parts += [
            html.P(f"Version {shown.version}: {rc.state_words(shown.state).lower()}; "
                   f"submitted by {shown.submitted_by} on {rc.day_words(shown.submitted_at)}"
                   f" from {shown.filename}." + (f" What changed: {shown.changes}"
                                                 if shown.changes else "")),
            rc.figures_table(m.figures, m.indicator_set, table_id=RETURNS_FIGURES,
                             caption=f"Figures of version {shown.version}"),
            review_actions(m),
            html.H3("Every version", className="h6 mt-3"),
            rc.history_table(m.versions, table_id=RETURNS_HISTORY,
                             caption=f"Versions of the return for {title}, newest first"),
        ]
    elif m.may_open(m.org):
        parts.append(html.P("Nothing has been submitted for this month.", id=RETURNS_HISTORY))
    elif not m.figures.is_empty():
        parts.append(rc.figures_table(m.figures, m.indicator_set, table_id=RETURNS_FIGURES,
                                      caption="Approved figures"))
    else:
        parts.append(html.P("No approved figures for this month.", className="small"))
    return parts


def approved_part(m: ReturnsModel) -> list:
    if m.month is None or m.approved.is_empty():
        return [html.P("No approved figures for this month yet.", className="small")]
    frame = rc.approved_rows(m.approved, m.indicator_set, names=m.names)
    return [rc.approved_table(frame, month=m.month, table_id=RETURNS_APPROVED)]


def body(m: ReturnsModel, message=None) -> list:
    """Everything below the heading, drawn again after each submission or review."""
    if m.indicator_set is None:
        return [message, dbc.Alert("No indicator set is defined for this network yet. A "
                                   "reviewer defines one with `equalities returns init`.",
                                   color="info")]
    parts = [html.Div(message, id=RETURNS_MESSAGE, role="status"),
             pagekit.section("returns-status", "Where the returns stand", *status_part(m))]
    if m.person is not None:
        parts.append(pagekit.section("returns-due", "What is due", rc.reminders(
            m.cells, names=m.names, providers=m.providers, today=m.today,
            list_id=RETURNS_REMINDERS)))
    if m.role == SUBMITTER:
        parts.append(pagekit.section("returns-submit", "Send a return", *submit_part(m)))
    if m.role == REVIEWER:
        parts.append(pagekit.section(
            "returns-review", "Review", pagekit.content_markdown("returns", section="Reviewing"),
            waiting_part(m)))
    parts.append(pagekit.section("returns-opened", "The return opened", *opened_part(m)))
    parts.append(pagekit.section(
        "returns-figures-month", "Approved figures" + (
            f", {rc.month_words(m.month)}" if m.month else ""), *approved_part(m)))
    parts.append(pagekit.section("returns-set", "The network's indicators",
                                 rc.indicator_summary(m.indicator_set, names=m.names,
                                                      table_id=RETURNS_INDICATORS)))
    return parts


# Not cached: what is shown depends on who is signed in, on the day, and on returns that
# change without a new store build.
@layouts.safe_layout(cache=False)
def layout(**query) -> html.Div:
    view, notices = ReturnsView.parse(query)
    user = current_user()
    m = model(view, user)
    return html.Div([
        pagekit.heading("Regional returns", "Monthly returns of the network's local "
                        "indicators: what is due, what is waiting for review, and what "
                        "was approved."),
        controls.notices(notices),
        pagekit.content_markdown("returns", section="Intro"),
        access_note(m, auth.load_config() is not None),
        controls_part(m),
        html.Div(body(m), id=RETURNS_BODY),
    ])


# -- actions (plain functions, called by the callbacks and the tests) ---------------------------


def _message(kind: str, *children) -> html.Div:
    return html.Div(list(children), className=f"alert alert-{kind}", role="alert")


def decode_upload(contents: str) -> bytes:
    """The bytes of a file from the browser's ``data:...;base64,...`` address."""
    _, _, data = str(contents).partition(",")
    return base64.b64decode(data, validate=True)


def upload(contents: str, filename: str | None, month_text: str | None, user: str | None,
           ) -> list:
    """Submit an uploaded return for the signed-in submitter: the page body again, with
    the new version, or every problem (nothing stored)."""
    view = ReturnsView(month=month_text or "")
    m = model(view, user)
    month = models.parse_month(month_text or "")
    name = (filename or "return.csv").replace("\\", "/").rsplit("/", 1)[-1][:200]
    if m.person is None or m.role != SUBMITTER or month is None:
        return body(m, _message("danger", "Only a signed-in submitter can send a return, "
                                "for a month chosen above."))
    try:
        data = decode_upload(contents)
    except (binascii.Error, ValueError):
        return body(m, _message("danger", f"{name} could not be read. Upload it again."))
    try:
        version = models.service.submit(models.engine(), user, m.person.org_code, month, data,
                                        filename=name)
    except ReturnRejected as error:
        log.info("return refused for %s %s: %d problem(s)", m.person.org_code, month,
                 len(error.problems))
        return body(m, rc.problems_view(error.problems, table_id=RETURNS_PROBLEMS))
    except (NotAllowed, ReturnsError) as error:
        return body(m, _message("danger", str(error)))
    fresh = model(ReturnsView(version.org_code, f"{version.month:%Y-%m}"), user)
    changed = f" What changed: {version.changes}" if version.changes else ""
    return body(fresh, _message(
        "success", html.Strong(f"Version {version.version} of the {rc.month_words(month)} "
                               "return was received"),
        f" from {name} and is waiting for review.{changed}"))


def review(action: str, return_id: int | None, comment: str | None, search: str | None,
           user: str | None) -> list:
    """Approve or send back the version ``return_id``: the page body again with the
    return's new state, or why not."""
    view, _ = ReturnsView.parse(viewstate.query_of(search))
    comment = (comment or "").strip()
    if action == "send_back" and not comment:
        return body(model(view, user), _message(
            "danger", "Write a comment saying what needs correcting before sending the "
            "return back."))
    act = models.service.approve if action == "approve" else models.service.send_back
    try:
        version = act(models.engine(), user or "", int(return_id), comment=comment)
    except (NotAllowed, ReturnsError, TypeError, ValueError) as error:
        return body(model(view, user), _message("danger", f"Not done: {error}"))
    fresh = model(ReturnsView(version.org_code, f"{version.month:%Y-%m}"), user)
    done = "approved" if action == "approve" else "sent back"
    after = ""
    if action == "approve":
        publish.publish_soon(models.engine(), then=lambda: warm.prime(dash.get_app()))
        after = (" Its figures are being published and will appear across the dashboard, "
                 "flagged Local, within a minute.")
    return body(fresh, _message(
        "success", html.Strong(f"Version {version.version} of "
                               f"{rc.org_words(version.org_code, fresh.names)}'s "
                               f"{rc.month_words(version.month)} return was {done}."),
        after))


# -- callbacks ------------------------------------------------------------------------------


FOLLOWED = viewstate.follow_controls({"org": RETURNS_ORG, "month": RETURNS_MONTH})
SUBMIT_FOLLOWED = viewstate.follow_controls({"month": RETURNS_SUBMIT_MONTH})


@callback(Output(RETURNS_BODY, "children", allow_duplicate=True),
          Input(RETURNS_UPLOAD, "contents"), State(RETURNS_UPLOAD, "filename"),
          State(RETURNS_SUBMIT_MONTH, "value"), prevent_initial_call=True)
def on_upload(contents, filename, month):
    if not contents:
        return no_update
    return upload(contents, filename, month, current_user())


@callback(Output(RETURNS_BODY, "children", allow_duplicate=True),
          Input(RETURNS_APPROVE, "n_clicks"), Input(RETURNS_SEND_BACK, "n_clicks"),
          State(RETURNS_REVIEWING, "data"), State(RETURNS_COMMENT, "value"),
          State(ids.URL, "search"), prevent_initial_call=True)
def on_review(_approve, _send_back, return_id, comment, search):
    if not ctx.triggered_id or not (ctx.triggered and ctx.triggered[0].get("value")):
        return no_update
    action = "approve" if ctx.triggered_id == RETURNS_APPROVE else "send_back"
    return review(action, return_id, comment, search, current_user())

