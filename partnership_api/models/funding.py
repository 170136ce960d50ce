"""Funds and the projects they pay for (being built: see issue 6)."""
