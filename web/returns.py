"""The regional returns' file route: a provider's template for a month, filled in with its
organisation, the month and its indicators, for the signed-in submitter (or a reviewer).

``/returns/template.csv?org=CODE&month=YYYY-MM``. Refused (403) without sign-in or a role
for that provider; a provider or month the network does not collect gets 400 naming it.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, abort, request

from data import settings
from returns import db, service
from returns.validate import month_of
from web import auth

log = logging.getLogger(__name__)

TEMPLATE_ROUTE = "/returns/template.csv"


def template_response(user: str | None, org: str, month_text: str) -> Response:
    """The template CSV for ``org`` and ``month_text``, or an HTTP error saying why not."""
    if not user or user == auth.EXPORT_USER:
        abort(403, description="Sign in to download a return's template.")
    engine = db.engine()
    person = service.person(engine, user)
    if person is None or (person.role != service.REVIEWER and person.org_code != org):
        abort(403, description="You can download templates only for your own organisation.")
    indicator_set = service.current_set(engine)
    if indicator_set is None:
        abort(404, description="No indicator set is defined for this network yet.")
    if org not in indicator_set.providers():
        abort(400, description=f"Unknown provider {org[:20]!r}: the network collects "
                               f"returns from {', '.join(indicator_set.providers())}.")
    month = month_of(month_text) if month_text else None
    if month is None or month < indicator_set.first_month:
        abort(400, description=f"Unknown month {month_text[:20]!r}: write it YYYY-MM, from "
                               f"{indicator_set.first_month:%Y-%m}.")
    text = service.template(indicator_set, org, month)
    name = f"return-{org}-{month:%Y-%m}.csv"
    return Response(text, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"',
                             "Cache-Control": "no-store"})


def install(server: Flask) -> None:
    """Add the template route to ``server`` (sign-in is checked first, by ``web.auth``)."""

    @server.route(TEMPLATE_ROUTE)
    def _returns_template():
        user = request.environ.get("REMOTE_USER") if settings.auth_mode() else None
        return template_response(user, request.args.get("org", ""),
                                 request.args.get("month", ""))
