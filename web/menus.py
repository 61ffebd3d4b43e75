"""The organisation menus' options as a file per store build, fetched once by the browser.

Every page with an organisation menu would otherwise send every organisation's name with
its layout (113 KB of a 138 KB Explore layout with 1,250 organisations). The layout sends
the chosen organisations only, and the menu's wrapper names this file
(``data-menu-options``); ``assets/a11y.js`` fetches it and fills the menu in the browser.
The build's id is in the address, so the browser keeps the file until the store changes.

``/menus/<kind>/<build>/<levels>.json``: ``levels`` is the organisation levels joined by
``-`` (``england-region-icb-trust``); ``kind`` is ``organisations`` (each label names its
level: "Ashbury (Trust)") or ``units`` (labels without it, for a menu of one level's units,
such as Benchmark's trust picker).
"""

from __future__ import annotations

from flask import Flask, abort, jsonify

from components import controls
from data import queries
from data.schema import LEVELS

KINDS = {"organisations": True, "units": False}  # kind -> whether labels name the level
ROUTE = f"/menus/<any({', '.join(KINDS)}):kind>/<build>/<levels>.json"
KEEP_S = 365 * 24 * 3600  # the build is in the address: the file never changes under it


def menu_url(levels: tuple[str, ...], *, named: bool = True) -> str:
    """The address of the menu's options for ``levels`` on the published store."""
    kind = next(k for k, v in KINDS.items() if v == named)
    return f"/menus/{kind}/{queries.build_id()}/{'-'.join(levels)}.json"


@queries.cached
def organisations_menu(levels: tuple[str, ...], named: bool = True) -> list[dict]:
    """Every organisation at ``levels``, in the menus' order (``controls.org_options``)."""
    return controls.org_options(queries.organisations(), levels, named=named)


def options(levels: tuple[str, ...], *codes: str, named: bool = True
            ) -> tuple[str, list[dict]]:
    """(the file's address, the options of ``codes`` alone) for ``controls.org_menu``: what
    a layout sends of a menu; the rest come from the file."""
    levels = tuple(levels)
    return (menu_url(levels, named=named),
            [o for o in organisations_menu(levels, named) if o["value"] in codes])


def install(server: Flask) -> None:
    """Add the options route to ``server`` (sign-in is checked first, by ``web.auth``)."""

    @server.route(ROUTE)
    def _organisation_options(kind: str, build: str, levels: str):
        wanted = tuple(levels.split("-"))
        if not set(wanted) <= set(LEVELS):
            abort(404, description="Unknown organisation level.")
        response = jsonify(organisations_menu(wanted, KINDS[kind]))
        # An older build's address gets today's options, not kept: the page asking for it
        # is about to be drawn again with the new build.
        current = build == queries.build_id()
        response.headers["Cache-Control"] = (f"private, max-age={KEEP_S}, immutable"
                                             if current else "no-cache")
        return response
