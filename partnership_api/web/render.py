"""Rendering a page: its template, with the layout (title, menu, who is signed in)."""

from __future__ import annotations

from flask import Response, g, render_template, request

import partnership_api.web.presenters as presenters


def render_page(
    template: str, what: str, *, status: int = 200, has_errors: bool = False, **context
) -> Response:
    layout = presenters.layout(g.get("actor"), what, request.path, has_errors)
    body = render_template(template, layout=layout, **context)
    return Response(body, status=status, mimetype="text/html")
