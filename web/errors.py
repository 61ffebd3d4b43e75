"""Requests the dashboard refuses, and errors it answers without a traceback.

An address that is not UTF-8 text is refused with 400, whatever it asks for. A malformed
callback request (a body that is not UTF-8 or is nested too deeply to parse safely, text
with a lone surrogate, not a JSON object, an output no callback has, an input whose value
its component cannot hold, such as a list for a single-choice dropdown) is refused with 400
before Dash sees it; every refused request and every failure is logged on the server; the
browser gets a short notice, as JSON for the app's own requests and as a small page
otherwise, never a traceback.
"""

from __future__ import annotations

import logging
import reprlib
from html import escape

import dash
from dash import Dash
from dash.exceptions import DependencyException
from flask import Response, jsonify, request
from werkzeug.exceptions import HTTPException

from data import queries, store
from web import inputs, layouts

log = logging.getLogger(__name__)

CALLBACK_PATH = "/_dash-update-component"
MESSAGES = {
    400: "The request could not be used. Reload the page or start again from its link.",
    404: "There is nothing at this address.",
    405: "This address does not take that kind of request.",
    413: "The request is too large.",
    500: "Sorry, something went wrong on the server. It has been logged; please try again.",
    503: "The service is not available just now; please try again shortly.",
}
NOT_TEXT = "This address could not be read as text. Check the link, or start from the overview."
# Values reach the log as a short repr: enough to recognise, never the whole of a tampered list.
_SHORT = reprlib.Repr()
_SHORT.maxstring = _SHORT.maxother = 40
_SHORT.maxlist = _SHORT.maxdict = 4
_SHORT.maxlevel = 2


def invalid_input_message(label: str) -> str:
    """What the browser is told about an input it sent that its component cannot hold."""
    return (f"This request's input {label} is not a valid value. Reload the page or start "
            "again from its link.")


def _items(entries) -> list:
    """Callback inputs or states, flattening pattern-matching (ALL) lists."""
    out = []
    for entry in entries:
        out.extend(entry if isinstance(entry, list) else [entry])
    return out


def callback_problem(payload: object, outputs: dict) -> str | None:
    """Why a ``/_dash-update-component`` body cannot be a request of this app, or None.

    ``outputs`` is Dash's callback map (keyed by the output string the browser sends).
    """
    if not isinstance(payload, dict):
        return "the body is not a JSON object"
    output = payload.get("output")
    # Clientside callbacks are in the map too, but have nothing to run on the server.
    if not isinstance(output, str) or "callback" not in outputs.get(output, {}):
        return "no callback has this output"
    for key in ("inputs", "state"):
        entries = payload.get(key, [])
        if not isinstance(entries, list):
            return f"{key} is not a list"
        for item in _items(entries):
            if not isinstance(item, dict) or "id" not in item or "property" not in item:
                return f"{key} holds an entry without id and property"
            if not isinstance(item["id"], str | dict) or not isinstance(item["property"], str):
                return f"{key} holds an entry whose id or property is not text"
            value = item.get("value")
            if item["property"] == "pathname" and isinstance(value, str) and \
                    not value.startswith("/"):
                return "pathname is not a path on this server"
    changed = payload.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(c, str) for c in changed):
        return "changedPropIds is not a list of text"
    return _mismatch(payload, outputs[output])


def _property(name: object) -> object:
    """An output property without the ``@<hash>`` Dash adds for ``allow_duplicate``."""
    return name.split("@", 1)[0] if isinstance(name, str) else name


def _mismatch(payload: dict, spec: dict) -> str | None:
    """Why the request's outputs, inputs or state are not the ones the callback declares."""
    declared = spec["output"] if isinstance(spec["output"], list) else [spec["output"]]
    sent = payload.get("outputs")
    sent = sent if isinstance(sent, list) else [sent]
    wanted = [(o.component_id, _property(o.component_property)) for o in declared]
    if [(o.get("id"), _property(o.get("property"))) if isinstance(o, dict) else o
            for o in sent] != wanted and all(isinstance(i, str) for i, _p in wanted):
        return "outputs are not the callback's"
    for key in ("inputs", "state"):
        entries = payload.get(key, [])
        if len(entries) != len(spec.get(key, [])):
            return f"{key} are not the callback's"
        for got, want in zip(entries, spec.get(key, []), strict=True):
            # A plain id is one entry (a list is for pattern-matching ids only).
            if isinstance(want["id"], str) and (not isinstance(got, dict) or (
                    got.get("id"), got.get("property")) != (want["id"], want["property"])):
                return f"{key} are not the callback's"
    return None


def _answer(code: int, message: str | None = None) -> Response:
    message = message or MESSAGES.get(code, MESSAGES[500] if code >= 500 else MESSAGES[400])
    wants_json = request.path.startswith("/_dash-") or (
        request.accept_mimetypes.best_match(["application/json", "text/html"])
        == "application/json")
    if wants_json:
        response = jsonify(error=message, status=code)
    else:
        response = Response(
            f'<!doctype html><html lang="en-GB"><title>Maternity and Neonatal Equalities'
            f"</title><main><h1>{escape(message)}</h1><p><a href=\"/\">Go to the overview"
            "</a></p></main></html>", mimetype="text/html")
    response.status_code = code
    return response


def _where() -> str:
    return f"{request.method} {request.path[:200]} from {request.remote_addr}"


def _layouts(app: Dash, module: str) -> list | None:
    """The app's frame and the layout (with no link parameters) of the page whose module
    defines callbacks, or of every page for callbacks in shared page code (such as
    ``pages._source``, whose callbacks serve Mortality and Experience); None while the store
    is unavailable (a page would draw only its notice)."""
    try:
        queries.build_id()
    except store.StoreError:
        return None
    registered = list(dash.page_registry.values())
    own = [page for page in registered if page.get("module") == module]
    if not own and not module.startswith("pages."):
        # Dash's own callbacks (the pages router) read only the frame's components: drawing
        # every page for them made a new worker's first page take seconds.
        return [app.get_layout()]
    with layouts.decoded():
        pages = [page["layout"]() if callable(page["layout"]) else page["layout"]
                 for page in own or registered]
    return [app.get_layout(), *pages]


def _refuse(problem: str, message: str | None = None) -> Response:
    log.warning("rejected request %s: %s", _where(), problem)
    return _answer(400, message)


def install(app: Dash) -> None:
    """Check requests and answer errors politely on ``app``'s server."""
    server = app.server
    known = inputs.Inputs(lambda module: _layouts(app, module))

    @server.before_request
    def _check_address():
        # Werkzeug decodes a query string strictly when it is first read (request.args).
        problem = inputs.address_problem(request.environ)
        return _refuse(problem, NOT_TEXT) if problem else None

    @server.before_request
    def _check_callback():
        if request.method != "POST" or request.path != CALLBACK_PATH:
            return None
        # Checked before anything parses it: json recurses once per level of nesting.
        problem = inputs.body_problem(request.get_data(cache=True))
        if problem:
            return _refuse(problem)
        payload = request.get_json(silent=True)
        if inputs.has_lone_surrogate(payload):
            return _refuse("the body holds a lone surrogate")
        problem = callback_problem(payload, app.callback_map)
        if problem:
            return _refuse(problem)
        module = getattr(app.callback_map[payload["output"]]["callback"], "__module__", "")
        invalid = inputs.invalid_input(payload, known.accepts(module))
        if invalid:
            label, value = invalid
            return _refuse(f"input {label} is {inputs.kind(value)}: {_SHORT.repr(value)}",
                           invalid_input_message(label))
        return None

    @server.errorhandler(HTTPException)
    def _refused(error: HTTPException):
        log.warning("rejected request %s: %s %s", _where(), error.code, error.name)
        # The app's own words (``abort(400, description=...)``), not Werkzeug's defaults.
        own = error.description if error.description != type(error).description else None
        return _answer(error.code or 400, own)

    @server.errorhandler(store.StoreError)
    def _no_store(error: store.StoreError):
        # A missing or damaged store is named in one log line; no stack trace is needed.
        log.error("data store unavailable for %s: %s", _where(), error)
        return _answer(503)

    @server.errorhandler(DependencyException)
    def _no_such_file(error: DependencyException):
        # Dash's own file routes raise this for a path outside its registered libraries.
        log.warning("rejected request %s: not a registered file", _where())
        return _answer(404)

    @server.errorhandler(Exception)
    def _failed(error: Exception):
        log.exception("request failed %s", _where())
        return _answer(500)
