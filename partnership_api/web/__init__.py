"""The web pages: GOV.UK Design System pages for the people who do the work.

Served by the same app as the API, on the same services and the same policy:

- ``session.py``: sign-in with a server-side session (the API's own session record) carried by
  an HttpOnly, SameSite=Strict cookie; an idle timeout; no token ever reaches the browser.
- ``adapter.py``: the one place the pages call the services (and the policy's ``can``).
- ``presenters.py``: per page, service results turned into what its template shows.
- ``forms.py``: Flask-WTF forms with govuk-frontend-wtf widgets; CSRF on every POST.
- ``pages.py``: the blueprint, its sign-in hook, sign-in and the start page; ``views_*.py``:
  the other pages, thin views: load through the adapter, present, render.
- ``setup.py``: ``init_web(app)``, called by the app factory.
- ``errors.py``: error pages (the API's errors stay JSON); ``security.py``: CSP with nonces.
- ``assets.py``: GOV.UK Frontend's assets from ``node_modules`` and ours, under ``/assets``.
"""
