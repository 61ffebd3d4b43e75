"""Labelled form controls shared by the pages (options from the registry and the facts given)."""

from __future__ import annotations

import dash_bootstrap_components as dbc
import polars as pl
from dash import dcc, html

from components import format as fmt
from components import viewstate
from data.schema import LEVEL_LABELS
from metrics import registry
from metrics.categories import DIMENSIONS, ETHNICITY, TOTAL
from metrics.registry import Metric

COMPARATORS = {"england": "England", "peer": "Peer group", "none": "No comparator"}


def org_options(organisations: pl.DataFrame, levels: tuple[str, ...], *,
                named: bool = True) -> list[dict]:
    """England, then regions, ICBs and trusts, each in name order with closed ones last
    (and marked); each label names its level ("Ashbury (Trust)") unless ``named`` is false
    (a menu of one level, where the level would be noise)."""
    order = {"england": 0, "region": 1, "icb": 2, "trust": 3}
    closed = pl.col("closed").is_not_null() if "closed" in organisations.columns else pl.lit(False)
    rows = organisations.filter(pl.col("org_level").is_in(list(levels))).with_columns(
        rank=pl.col("org_level").replace_strict(order, default=9), is_closed=closed,
    ).sort("rank", "is_closed", "name")
    options = []
    for row in rows.iter_rows(named=True):
        label = row["name"] if row["org_level"] == "england" or not named else \
            f"{row['name']} ({LEVEL_LABELS[row['org_level']]})"
        if row.get("closed"):
            label += f" – closed {row['closed']:%b %Y}"
        options.append({"label": label, "value": row["org_code"]})
    return options


def metric_options(metrics: tuple[Metric, ...] | None = None) -> list[dict]:
    return [{"label": f"{m.section}: {m.title}", "value": m.id}
            for section in registry.sections()
            for m in (registry.outcome_metrics() if metrics is None else metrics)
            if m.section == section]


def dimension_options(dimensions: tuple[str, ...]) -> list[dict]:
    return [{"label": DIMENSIONS[d].label, "value": d} for d in dimensions]


def labelled(label: str, control, control_id: str, width: int = 3) -> dbc.Col:
    return dbc.Col(
        [html.Label(label, htmlFor=control_id, className="form-label fw-bold"), control],
        md=width, className="mb-2",
    )


def option_height(options: int) -> int:
    """A menu's row height in pixels: room for a long label's second line in a long menu."""
    return 48 if options > 20 else 36


def dropdown(control_id, options: list[dict], value, *, multi: bool = False,
             clearable: bool = False, placeholder: str | None = None) -> dcc.Dropdown:
    return dcc.Dropdown(id=control_id, options=options, value=value, multi=multi,
                        clearable=clearable, placeholder=placeholder, searchable=True,
                        optionHeight=option_height(len(options)))


def org_menu(control_id, options_url: str, chosen: list[dict], value, **props) -> html.Div:
    """The organisation menu, sent with the chosen organisations only: its wrapper names
    the file of every option (``web.menus``), which the browser fetches once per store
    build and puts into the menu (``assets/a11y.js``). ``props`` are the dropdown's own
    (``multi``, ``clearable``, ``placeholder``...), over a single choice that cannot be
    cleared."""
    menu = dcc.Dropdown(id=control_id, options=chosen, value=value,
                        **{"clearable": False, "searchable": True, "optionHeight": 48} | props)
    return html.Div(menu, className="org-menu", **{"data-menu-options": options_url,
                                                   "data-menu-id": control_id})


def card(title: str, *children, body_class: str = "") -> dbc.Card:
    return dbc.Card([dbc.CardHeader(html.H2(title, className="h5 m-0")),
                     dbc.CardBody(list(children), className=body_class)],
                    className="mb-3 shadow-sm")


def notices(messages: list[str]) -> dbc.Alert | None:
    """The warning that some of the link could not be used, or None when all of it was."""
    if not messages:
        return None
    viewstate.noticed(messages)  # so the server logs which parameters, per request
    return dbc.Alert([html.Strong("Some of the link could not be used. "),
                      " ".join(messages)], color="warning", id="page-notice",
                     className="mb-3", dismissable=True)


def choose_dimension(query: dict, metric: Metric, notices: list[str], *, org_name: str,
                     offered: tuple[str, ...], stored: frozenset[str]) -> str:
    """The link's breakdown (``dim``) if it is ``offered`` (the metric's breakdowns the store
    holds at the organisation's level); otherwise ethnicity (or the first offered) and a
    notice. A breakdown ``stored`` there but not offered (a cross-tabulation), or not held
    at all, gets a notice saying so rather than "unknown"."""
    default = ETHNICITY if ETHNICITY in offered else (offered or (TOTAL,))[0]
    wanted = query.get("dim")
    if isinstance(wanted, str) and wanted in DIMENSIONS and wanted not in offered:
        notices.append(fmt.dimension_not_held(metric, wanted, org_name=org_name, shown=default,
                                              held=wanted in stored))
        query = query | {"dim": default}
    return viewstate.choose(query, "dim", offered, default, notices, "breakdown")
