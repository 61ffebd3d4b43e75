"""What a request may carry: an address and a body that are text, JSON nested no deeper than
a sane limit, and for each callback input or state a value of the JSON type its component's
property accepts.

The accepted types come from the components themselves. Each Dash component class declares
its properties' types (``dcc.Dropdown.value``: text, number, boolean or a list of those);
the layout narrows them (a dropdown without ``multi`` takes no list, one whose options are
text takes text). A component no layout draws (one a callback makes) falls back to a small
table by property name.
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
import math
import re
import threading
import types
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableSequence, Sequence
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

from dash.development.base_component import Component

log = logging.getLogger(__name__)

MAX_DEPTH = 100  # of JSON arrays and objects in a callback body; Dash's own are under 10
_STRINGS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")
_SURROGATE = re.compile("[\ud800-\udfff]")


# -- text ------------------------------------------------------------------------------------


def address_problem(environ: Mapping[str, object]) -> str | None:
    """Why a request's path or query string is not UTF-8 text, or None.

    WSGI gives both as Latin-1 strings of the raw bytes; the path is already
    percent-decoded by the server, the query string and the raw address the server may
    also pass on (``RAW_URI``, ``REQUEST_URI``) are not. ``%ED%B3%BF``, a lone surrogate
    in CESU-8, is refused here rather than read as three replacement marks.
    """
    try:
        path, query, uri = (str(environ.get(key) or "").encode("latin-1") for key in
                            ("PATH_INFO", "QUERY_STRING", "RAW_URI"))
        uri = uri or str(environ.get("REQUEST_URI") or "").encode("latin-1")
        for raw in (path, query, unquote_to_bytes(query), unquote_to_bytes(uri)):
            raw.decode("utf-8")
    except UnicodeError:
        return "the address is not UTF-8 text"
    return None


def body_problem(body: bytes) -> str | None:
    """Why a callback body cannot be parsed safely, or None: not UTF-8 (strictly: no
    encoded surrogates), or arrays and objects nested deeper than ``MAX_DEPTH``."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "the body is not UTF-8 text"
    if depth_exceeds(text, MAX_DEPTH):
        return f"the body is nested more than {MAX_DEPTH} deep"
    return None


def depth_exceeds(text: str, limit: int) -> bool:
    """True if the JSON ``text`` opens more than ``limit`` arrays or objects at once
    (brackets inside strings do not count); read without parsing, so it cannot recurse."""
    depth = 0
    for bracket in _BRACKETS.finditer(_STRINGS.sub("", text)):
        depth += 1 if bracket.group() in "[{" else -1
        if depth > limit:
            return True
    return False


def has_lone_surrogate(value: object) -> bool:
    """True if any string (key or value) in parsed JSON holds a lone surrogate.

    Python's ``json`` accepts ``"\\ud800"`` and pairs only the halves that match, so a
    surrogate left in a string is a lone one; it cannot be encoded as UTF-8 later.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


# -- shapes of JSON values -------------------------------------------------------------------


def kind(value: object) -> str:
    """The JSON kind of a parsed value: null, boolean, number, string, list or object
    (a number that is not finite, which JSON cannot hold, is "not a number")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    return "not a number"


@dataclass(frozen=True)
class Shape:
    """The JSON values a property accepts: values of ``kinds`` ("any" for all), and lists
    whose every item ``items`` accepts (no lists when ``items`` is None)."""

    kinds: frozenset[str] = frozenset()
    items: Shape | None = None

    def __or__(self, other: Shape) -> Shape:
        if self.items is None or other.items is None:
            items = self.items or other.items
        else:
            items = self.items | other.items
        return Shape(self.kinds | other.kinds, items)

    def admits(self, value: object) -> bool:
        if "any" in self.kinds:
            return True
        if isinstance(value, list):
            return self.items is not None and all(self.items.admits(v) for v in value)
        return kind(value) in self.kinds

    def only(self, kinds: frozenset[str]) -> Shape:
        """This shape with values (and list items) limited to ``kinds``."""
        mine = kinds if "any" in self.kinds else self.kinds & kinds
        return Shape(mine, None if self.items is None else self.items.only(kinds))

    def single(self) -> Shape:
        """This shape without lists."""
        return Shape(self.kinds)


def _shape(*kinds: str, items: Shape | None = None) -> Shape:
    return Shape(frozenset(kinds), items)


ANY = _shape("any")
SCALAR = _shape("null", "string", "number", "boolean")
TEXT = _shape("null", "string")
# By property name, for components no layout draws and properties with no declared type.
FALLBACK: dict[str, Shape] = {
    **dict.fromkeys(("pathname", "search", "hash", "href"), TEXT),
    **dict.fromkeys(("n_clicks", "n_clicks_timestamp"), _shape("null", "number")),
    **dict.fromkeys(("contents", "filename"), _shape("null", "string", items=_shape("string"))),
    "value": SCALAR | _shape(items=_shape("string", "number", "boolean")),
}
_NUMBERS = (int, float, complex, typing.SupportsFloat, typing.SupportsInt,
            typing.SupportsComplex)
_LISTS = (list, tuple, Sequence, MutableSequence)


def from_annotation(annotation: object) -> Shape:
    """The JSON values a Python type annotation of a component property allows."""
    if annotation is None or annotation is type(None):
        return _shape("null")
    if annotation is str:
        return _shape("string")
    if annotation is bool:
        return _shape("boolean")
    if annotation in _NUMBERS:
        return _shape("number")
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return from_annotation(args[0])
    if origin in (typing.Union, types.UnionType):
        return functools.reduce(Shape.__or__, map(from_annotation, args))
    if origin is typing.Literal:
        return Shape(frozenset(kind(a) for a in args))
    if origin in _LISTS or annotation in (list, tuple):
        parts = [a for a in args if a is not Ellipsis]
        items = functools.reduce(Shape.__or__, map(from_annotation, parts)) if parts else ANY
        return _shape(items=items)
    if origin in (dict, Mapping) or annotation is dict or typing.is_typeddict(annotation):
        return _shape("object")
    return ANY


@functools.cache
def _parameters(cls: type) -> Mapping[str, inspect.Parameter]:
    try:
        return inspect.signature(cls.__init__).parameters
    except (TypeError, ValueError):
        return {}


@functools.cache
def declared(cls: type, prop: str) -> Shape:
    """What ``cls`` declares its property ``prop`` accepts (the fallback when it does not
    say, or says "anything")."""
    parameter = _parameters(cls).get(prop)
    shape = ANY if parameter is None else from_annotation(parameter.annotation)
    return FALLBACK.get(prop, ANY) if shape == ANY else shape


def _option_kinds(options: object) -> frozenset[str] | None:
    """The kinds of the values of a component's ``options`` (None when it has none)."""
    if isinstance(options, dict):
        values: Iterable[object] = options.keys()
    elif isinstance(options, list):
        values = [o.get("value") if isinstance(o, dict) else o for o in options]
    else:
        return None
    found = frozenset(kind(v) for v in values)
    return found if found and found <= {"string", "number", "boolean"} else None


def accepted(cls: type, prop: str, props: Mapping[str, object]) -> Shape:
    """What ``prop`` of a ``cls`` configured with ``props`` in a layout accepts."""
    shape = declared(cls, prop)
    parameters = _parameters(cls)
    if shape.items is not None and shape.kinds - {"null"}:
        # Text or a list of it: which one depends on the component's multi (or multiple).
        flag = next((f for f in ("multi", "multiple") if f in parameters), None)
        if flag is not None and not props.get(flag):
            shape = shape.single()
    if prop == "value" and "options" in parameters:
        kinds = _option_kinds(props.get("options"))
        if kinds is not None:
            shape = shape.only(kinds | {"null"})
    return shape


# -- components in the layouts ---------------------------------------------------------------


def id_key(ident: object) -> str | None:
    """A component id as a key: the text id, or the canonical JSON of a dict id."""
    if isinstance(ident, str):
        return ident
    if isinstance(ident, dict):
        return json.dumps(ident, sort_keys=True, separators=(",", ":"), default=str)
    return None


def _classes() -> dict[tuple[str, str], type]:
    """Every loaded component class by (namespace, type), as Dash names them in JSON."""
    found, stack = {}, list(Component.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        namespace, name = getattr(cls, "_namespace", None), getattr(cls, "_type", None)
        if isinstance(namespace, str) and isinstance(name, str):
            found.setdefault((namespace, name), cls)
    return found


def _nodes(tree: object, classes: Mapping[tuple[str, str], type]
           ) -> Iterator[tuple[type, dict]]:
    """(class, props) of every component in a layout, as objects or as Dash's JSON."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, Component):
            props = node.to_plotly_json()["props"]
            yield type(node), props
            stack.extend(props.values())
        elif isinstance(node, dict):
            props = node.get("props")
            cls = classes.get((node.get("namespace"), node.get("type")))
            if cls is not None and isinstance(props, dict):
                yield cls, props
                stack.extend(props.values())
            else:
                stack.extend(node.values())
        elif isinstance(node, list | tuple):
            stack.extend(node)


MENU_ID = "data-menu-id"  # the wrapper of a menu filled in the browser (controls.org_menu)


def index(trees: Iterable[object]) -> dict[str, list[tuple[type, dict]]]:
    """The components with an id in ``trees``: id key -> [(class, props)]."""
    classes = _classes()
    found: dict[str, list[tuple[type, dict]]] = {}
    filled: set[str] = set()
    for tree in trees:
        for cls, props in _nodes(tree, classes):
            key = id_key(props.get("id"))
            if key is not None:
                found.setdefault(key, []).append((cls, props))
            if isinstance(props.get(MENU_ID), str):
                filled.add(props[MENU_ID])
    # A menu whose options the browser fills from the options file (``web.menus``) carries
    # only its chosen ones in the layout, perhaps none; the file's values are codes: text.
    for key in filled & found.keys():
        found[key] = [(cls, props | {"options": [{"value": ""}]})
                      for cls, props in found[key]]
    return found


class Inputs:
    """What each component property accepts, learnt from the layouts that draw a callback's
    components: its page's and the app's frame, drawn once per page.

    ``layouts(module)`` returns the trees for callbacks defined in ``module``, or None when
    they cannot be drawn just now (no store): until they can, the fallback table applies.
    """

    def __init__(self, layouts: Callable[[str], list | None]):
        self._layouts = layouts
        self._lock = threading.Lock()
        self._indexes: dict[str, dict[str, list[tuple[type, dict]]]] = {}

    def _components(self, module: str) -> Mapping[str, list[tuple[type, dict]]]:
        found = self._indexes.get(module)
        if found is None:
            with self._lock:
                found = self._indexes.get(module)
                if found is None:
                    try:
                        trees = self._layouts(module)
                    except Exception:  # noqa: BLE001 - checks fall back; tried again next time
                        log.exception("could not read the components of %s", module)
                        trees = None
                    if trees is None:
                        return {}
                    found = self._indexes[module] = index(trees)
        return found

    def accepts(self, module: str) -> Callable[[object, str], Shape]:
        """``(id, property) -> Shape`` for the components of callbacks in ``module``."""
        components = self._components(module)

        def shape(ident: object, prop: str) -> Shape:
            drawn = components.get(id_key(ident) or "", [])
            shapes = [accepted(cls, prop, props) for cls, props in drawn]
            return functools.reduce(Shape.__or__, shapes) if shapes else \
                FALLBACK.get(prop, ANY)

        return shape


def invalid_input(payload: dict, accepts: Callable[[object, str], Shape]
                  ) -> tuple[str, object] | None:
    """The first input or state whose value its property does not accept, as
    ``("explore-dimension.value", value)``; None when all are valid.

    ``payload`` has passed the structural check (entries hold an id and a property).
    """
    for key in ("inputs", "state"):
        for entry in payload.get(key, []):
            for item in entry if isinstance(entry, list) else [entry]:
                value = item.get("value")
                if not accepts(item["id"], item["property"]).admits(value):
                    label = f"{id_key(item['id'])}.{item['property']}"
                    return label[:120], value
    return None
