"""``/assets/…``: GOV.UK Frontend's stylesheet, script, fonts and images, installed from the
npm registry into ``node_modules`` by ``make`` (``npm ci``), and the pages' own few files.
Served by the app itself: no page ever loads anything from another host."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, send_from_directory

ROOT = Path(__file__).resolve().parent.parent.parent
GOVUK = ROOT / "node_modules" / "govuk-frontend" / "dist" / "govuk"
OURS = Path(__file__).resolve().parent / "static"
# Looked up in order: ours, GOV.UK Frontend's assets (fonts, images, manifest), its bundles.
FOLDERS = (OURS, GOVUK / "assets", GOVUK)
SERVED_SUFFIXES = (".css", ".js", ".mjs", ".woff", ".woff2", ".png", ".svg", ".ico", ".json")
MAX_AGE = 3600


def register(blp: Blueprint) -> None:
    @blp.route("/assets/<path:filename>")
    def asset(filename: str):
        """A static asset (no sign-in needed: nothing in them is personal)."""
        if not filename.endswith(SERVED_SUFFIXES) or filename.endswith(".map"):
            abort(404)
        for folder in FOLDERS:
            if (folder / filename).is_file():  # send_from_directory refuses ../ itself
                return send_from_directory(folder, filename, max_age=MAX_AGE)
        abort(404)
