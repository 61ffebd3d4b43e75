"""Serving concerns around the Dash app: sign-in and request errors."""
