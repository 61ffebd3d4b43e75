"""Requests the dashboard refuses, and errors it answers without a traceback.

A malformed callback request (not a JSON object, an output no callback has, a URL part that
is not text) is refused with 400 before Dash sees it; every refused request and every
failure is logged on the server; the browser gets a short notice, as JSON for the app's own
requests and as a small page otherwise, never a traceback.
"""

from __future__ import annotations

import logging
from html import escape

from dash import Dash
from dash.exceptions import DependencyException
from flask import Response, jsonify, request
from werkzeug.exceptions import HTTPException

from data import store

log = logging.getLogger(__name__)

CALLBACK_PATH = "/_dash-update-component"
# Properties of dcc.Location: text or nothing, whatever callback they feed.
URL_PROPERTIES = ("pathname", "search", "hash", "href")
MESSAGES = {
    400: "The request could not be used. Reload the page or start again from its link.",
    404: "There is nothing at this address.",
    405: "This address does not take that kind of request.",
    413: "The request is too large.",
    500: "Sorry, something went wrong on the server. It has been logged; please try again.",
    503: "The service is not available just now; please try again shortly.",
}


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
            value = item.get("value")
            if item["property"] in URL_PROPERTIES and not (value is None or isinstance(value, str)):
                return f"{item['property']} is not text"
            if item["property"] == "pathname" and value is not None and \
                    not value.startswith("/"):
                return "pathname is not a path on this server"
    if not isinstance(payload.get("changedPropIds", []), list):
        return "changedPropIds is not a list"
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
            if isinstance(want["id"], str) and isinstance(got, dict) and \
                    (got.get("id"), got.get("property")) != (want["id"], want["property"]):
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


def install(app: Dash) -> None:
    """Check callback requests and answer errors politely on ``app``'s server."""
    server = app.server

    @server.before_request
    def _check_callback():
        if request.method != "POST" or request.path != CALLBACK_PATH:
            return None
        problem = callback_problem(request.get_json(silent=True), app.callback_map)
        if problem:
            log.warning("rejected request %s: %s", _where(), problem)
            return _answer(400)
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
