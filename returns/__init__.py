"""Regional returns: local indicators, monthly returns from providers, review and approval."""
