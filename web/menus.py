"""The organisation menus' options as a file per store build, fetched once by the browser.

Every page with an organisation menu would otherwise send every organisation's name with
its layout (113 KB of a 138 KB Explore layout with 1,250 organisations). The layout sends
the chosen organisation only, and the menu's wrapper names this file
(``data-menu-options``); ``assets/a11y.js`` fetches it and fills the menu in the browser.
The build's id is in the address, so the browser keeps the file until the store changes.

``/menus/organisations/<build>/<levels>.json``: ``levels`` is the organisation levels
joined by ``-`` (``england-region-icb-trust``).
"""

from __future__ import annotations

from flask import Flask, abort, jsonify

from components import controls
from data import queries
from data.schema import LEVELS

ROUTE = "/menus/organisations/<build>/<levels>.json"
KEEP_S = 365 * 24 * 3600  # the build is in the address: the file never changes under it


def organisations_url(levels: tuple[str, ...]) -> str:
    """The address of the menu's options for ``levels`` on the published store."""
    return f"/menus/organisations/{queries.build_id()}/{'-'.join(levels)}.json"


@queries.cached
def organisations_menu(levels: tuple[str, ...]) -> list[dict]:
    """Every organisation at ``levels``, in the menus' order (``controls.org_options``)."""
    return controls.org_options(queries.organisations(), levels)


def options(levels: tuple[str, ...], code: str) -> tuple[str, list[dict]]:
    """(the file's address, the option of ``code`` alone) for ``controls.org_menu``: what a
    layout sends of a menu; the rest come from the file."""
    levels = tuple(levels)
    return (organisations_url(levels),
            [o for o in organisations_menu(levels) if o["value"] == code])


def install(server: Flask) -> None:
    """Add the options route to ``server`` (sign-in is checked first, by ``web.auth``)."""

    @server.route(ROUTE)
    def _organisation_options(build: str, levels: str):
        wanted = tuple(levels.split("-"))
        if not set(wanted) <= set(LEVELS):
            abort(404, description="Unknown organisation level.")
        response = jsonify(organisations_menu(wanted))
        # An older build's address gets today's options, not kept: the page asking for it
        # is about to be drawn again with the new build.
        current = build == queries.build_id()
        response.headers["Cache-Control"] = (f"private, max-age={KEEP_S}, immutable"
                                             if current else "no-cache")
        return response
