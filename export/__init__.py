"""Board-report export: any view as PNG or PDF, and a whole trust's board pack.

Pages are drawn by a headless Chromium (Debian's, driven with Playwright) with the print
stylesheet, so an export is the view composed for paper, not a screenshot of the screen.
"""
