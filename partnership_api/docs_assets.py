"""Swagger UI for ``/docs``, served by the app itself.

The assets come from the pinned ``swagger-ui-dist`` npm package (``package.json``, installed
by ``make npm`` from ``package-lock.json``): nothing on the docs page is loaded from another
host, so it works on networks that block CDNs, and no third party's script runs on the page
where people paste bearer tokens.
"""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask, abort, send_from_directory

from partnership_api.smorest import mark_public_endpoint

SWAGGER_UI_DIR = Path(__file__).resolve().parent.parent / "node_modules" / "swagger-ui-dist"
ASSETS_PATH = "/docs/assets/"
# The files flask-smorest's Swagger UI page references; nothing else of the package is served.
ASSETS = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js"})
ENDPOINT = "docs_asset"

log = logging.getLogger("partnership_api.docs")


def init_docs_assets(app: Flask) -> None:
    """Point flask-smorest's Swagger UI page at the app's own copy of the assets."""
    app.config["OPENAPI_SWAGGER_UI_URL"] = ASSETS_PATH
    # No validator badge: Swagger UI would otherwise send the document to a public validator.
    app.config["OPENAPI_SWAGGER_UI_CONFIG"] = {"validatorUrl": None}
    if not all((SWAGGER_UI_DIR / name).is_file() for name in ASSETS):
        log.warning("Swagger UI assets are missing; run `make npm` (the /docs page is empty)")

    def docs_asset(filename: str):
        if filename not in ASSETS:
            abort(404)
        return send_from_directory(SWAGGER_UI_DIR, filename, max_age=3600)

    app.add_url_rule(f"{ASSETS_PATH}<filename>", ENDPOINT, docs_asset, methods=["GET"])
    mark_public_endpoint(ENDPOINT)
