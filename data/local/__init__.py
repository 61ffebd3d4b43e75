"""A user's own (local) figures for an equity audit, kept apart from the national store.

``parse`` validates a CSV in the documented template (``template.csv``, described in
``content/local_data.md``) into a counts-shaped frame flagged local; ``store`` keeps a
validated file in the data folder's own ``local/`` subfolder and reads it back; ``compare``
puts local figures beside the national ones. An upload through the web page is never kept:
it is validated and compared afresh for each request that sends it. Nothing here writes to
the national store.
"""
