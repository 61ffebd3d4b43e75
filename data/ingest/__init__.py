"""Ingest real published files (NHS Maternity Statistics, MBRRACE-UK, ODS) into the store.

``build.build_from_files`` detects each file's format from its content, validates every row,
maps what the files support to registry metrics, and publishes through
:func:`data.store.write_store` (atomic), or refuses and leaves the store untouched.
"""
