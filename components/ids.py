"""Component ids shared by the shell and several pages (page-specific ids live in the page)."""

URL = "url"
# The address each page writes its view into: a Location inside the page itself, so a page's
# controls-to-URL callback has its input and output in the same layout and does not fire
# when the page is drawn (it would if it wrote into the shell's URL).
PAGE_URL = "page-url"
NOTICE = "page-notice"
# The navigation links carrying the view's selection (web.follow), sent with each page.
NAV_LINKS = "nav-links"
