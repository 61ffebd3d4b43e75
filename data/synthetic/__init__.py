"""The synthetic England demo: fictional trusts, births simulated record by record."""
