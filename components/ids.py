"""Component ids shared by the shell and several pages (page-specific ids live in the page)."""

URL = "url"
NOTICE = "page-notice"
