"""Typed SQLAlchemy models, one module per domain.

``load_all()`` imports every model module so that the metadata (and Alembic) sees them all.
"""

import importlib

MODEL_MODULES = (
    "partnership",
    "audit",
    "referrals",
    "beds",
    "funding",
    "events",
    "safe_accommodation",
    "pages",
)


def load_all() -> None:
    for name in MODEL_MODULES:
        importlib.import_module(f"partnership_api.models.{name}")
