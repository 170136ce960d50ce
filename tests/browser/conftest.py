"""Browser tests: the pages served by gunicorn on loopback, driven in Debian's Chromium.

One server and one browser for the whole run; one browser context (cookie jar) per demo role,
signed in once through the sign-in page. Every page visited is checked by axe-core (no
violations), for Content Security Policy violations and script errors, and for requests to
any host but the app's own. Screenshots at desktop width and at 360 px are taken on every run
(at 360 px nothing may scroll sideways); they replace the committed ones in
``docs/screenshots/`` only with ``UPDATE_SCREENSHOTS=1`` (``make screenshots``), so a test run
leaves the working tree as it was.

Chromium is Debian's (``/usr/bin/chromium``, installed by ``make test`` / ``.ci/run`` when
missing; ``CHROMIUM`` names another); Playwright drives it through ``executable_path`` and
never downloads a browser.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests import faultlib
from tests.conftest import selected_database_url

REPO = Path(__file__).resolve().parent.parent.parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = (
    REPO / "docs" / "screenshots"
    if os.environ.get("UPDATE_SCREENSHOTS") == "1"
    else Path(tempfile.gettempdir()) / "partnership-screenshots"
)
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 740}
# WCAG 2.2 A and AA, as axe-core tags them.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
# What axe's findings depend on, without the words and ids that differ between users: each
# element's tag, classes, role, ARIA and type attributes, and whether it has text or a label.
# Two pages with the same shape give the same findings, so axe runs once per shape.
SHAPE = """() => {
  const kept = /^(class|role|type|scope|alt|for|lang|aria-(?!describedby|labelledby|controls))/;
  const valued = ['class', 'role', 'type', 'scope', 'lang'];
  const parts = [];
  for (const el of document.querySelectorAll('*')) {
    const attrs = [...el.attributes].filter(a => kept.test(a.name))
      .map(a => a.name + (valued.includes(a.name) ? '=' + a.value : '')).join(',');
    const text = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    parts.push(el.tagName + '[' + attrs + ']' + (text ? 't' : ''));
  }
  return parts.join('|');
}"""
AXE_RUN = """async (tags) => {
  const found = await axe.run(document, {
    runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']
  });
  return found.violations.map(v => `${v.id}: ${v.help} (${v.nodes.map(n => n.target)})`);
}"""


# The elements that reach past the right edge, innermost first (to say what is too wide).
WIDEST = """() => [...document.querySelectorAll('body *')]
  .filter(el => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
  .filter(el => ![...el.children].some(c => c.getBoundingClientRect().right
                                           > document.documentElement.clientWidth + 1))
  .slice(0, 5)
  .map(el => `${el.tagName.toLowerCase()}.${[...el.classList].join('.')}`
             + ` (${Math.round(el.getBoundingClientRect().right)} px)`)"""


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.no_demo)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """The app under gunicorn on a free loopback port, on a database of this run's own
    (migrated by Alembic and loaded with the demo partnership, as ``make run`` does)."""
    target = selected_database_url()
    schema = None
    if target == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'pages.db'}"
    else:
        url = target.replace("postgresql://", "postgresql+psycopg://", 1)
        schema = f"browser_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    env = faultlib.app_environment(
        url,
        DATABASE_SCHEMA=schema,
        API_RATE_LIMIT="100000 per minute",
        LOGIN_RATE_LIMIT="1000 per minute",
    )
    try:
        faultlib.prepare_database(env)
        server = faultlib.AppServer(env, workers=2, threads=2).start()
        try:
            yield server
        finally:
            server.destroy()
    finally:
        if schema is not None:
            with engine.connect() as conn:
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            engine.dispose()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).is_file():
        pytest.fail(
            f"Chromium is not at {CHROMIUM}: `make test` installs Debian's chromium "
            "(apt-get install chromium), or set CHROMIUM"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        try:
            yield launched
        finally:
            launched.close()


CHECKED_SHAPES: set[str] = set()


@dataclass
class Visit:
    """One page as the browser got it."""

    status: int
    html: str
    title: str


@dataclass
class Tab:
    """A signed-in browser tab of one user, checking every page it opens."""

    server: faultlib.AppServer
    username: str
    page: object
    problems: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.server.url(path)

    def open(self, path: str, *, axe: bool = True, expect: int | None = 200) -> Visit:
        response = self.page.goto(self.url(path), wait_until="load")
        return self.settled(response.status if response else 0, axe=axe, expect=expect)

    def settled(self, status: int = 200, *, axe: bool = True, expect: int | None = 200) -> Visit:
        """The page now shown: checked with axe, for CSP violations and foreign hosts."""
        page = self.page
        page.wait_for_load_state("load")
        if expect is not None:
            assert status == expect, f"{self.username} {page.url}: {status}, expected {expect}"
        if axe:
            shape = page.evaluate(SHAPE)
            if shape not in CHECKED_SHAPES:
                violations = page.evaluate(AXE_RUN, AXE_TAGS)
                assert not violations, f"{self.username} {page.url}: axe: {violations}"
                CHECKED_SHAPES.add(shape)
        assert not self.problems, f"{self.username} {page.url}: {self.problems}"
        assert not self.foreign, f"{self.username} {page.url}: other hosts: {self.foreign}"
        return Visit(status, page.content(), page.title())

    def screenshot(self, name: str) -> None:
        """The page at desktop width and at 360 px; at 360 px nothing may scroll sideways."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page = self.page
        page.set_viewport_size(DESKTOP)
        page.screenshot(path=str(SCREENSHOTS / f"{name}-desktop.png"), full_page=True)
        page.set_viewport_size(PHONE)
        wide = page.evaluate("document.documentElement.scrollWidth")
        if wide > PHONE["width"]:
            culprits = page.evaluate(WIDEST)
            raise AssertionError(f"{name}: {wide} px wide at 360 px; widest: {culprits}")
        page.screenshot(path=str(SCREENSHOTS / f"{name}-360.png"), full_page=True)
        page.set_viewport_size(DESKTOP)


def new_tab(browser, server, username: str, sign_in: bool = True) -> Tab:
    context = browser.new_context(viewport=DESKTOP, base_url=server.base_url)
    # axe-core is added by the browser itself (not through the page): the pages' CSP allows
    # no script but their own, and this does not weaken it.
    context.add_init_script(path=str(AXE))
    page = context.new_page()
    tab = Tab(server, username, page)
    base = server.base_url

    def on_console(message) -> None:
        # A page's own status (a 401 after a wrong password, a 404 page) is checked by the
        # tests; what matters here is CSP violations and script errors.
        if message.text.startswith("Failed to load resource"):
            return
        if "Content Security Policy" in message.text or message.type == "error":
            tab.problems.append(f"console {message.type}: {message.text}")

    def on_response(response) -> None:
        if response.request.resource_type != "document" and response.status >= 400:
            tab.problems.append(f"{response.status} for {response.url}")

    page.on("response", on_response)

    page.on("console", on_console)
    page.on("pageerror", lambda error: tab.problems.append(f"script error: {error}"))
    page.on(
        "request",
        lambda request: None if request.url.startswith(base) else tab.foreign.append(request.url),
    )
    if sign_in:
        sign_in_as(tab, username)
    return tab


def sign_in_as(tab: Tab, username: str) -> None:
    from tests.faultlib import DEMO_PASSWORD

    tab.open("/sign-in")
    tab.page.get_by_label("Username").fill(username)
    tab.page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    tab.page.get_by_role("button", name="Sign in").click()
    tab.page.wait_for_url(lambda url: "/sign-in" not in url)
    tab.settled()


@pytest.fixture(scope="session")
def tabs(browser, live_server):
    """``tabs("swa.staff")``: that user's signed-in tab, made once per run."""
    made: dict[str, Tab] = {}

    def tab_of(username: str) -> Tab:
        if username not in made:
            made[username] = new_tab(browser, live_server, username)
        return made[username]

    yield tab_of
    for tab in made.values():
        tab.page.context.close()
