"""The dashboard's pages: one module a page (layout and its callbacks); modules whose names
start with an underscore are shared page code, not pages."""
