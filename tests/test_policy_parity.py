"""What a referral's page offers is what the API allows: for every demo user, every status a
referral can have and every step of its lifecycle, the page shows the step exactly when the
API, called by that user, takes it (200). Both ask the policy (``policy.may`` and the one
table of steps, ``policy.TRANSITIONS``); this proves they agree, by asking each door."""

from __future__ import annotations

from partnership_api.demo import USERS
from tests.pagelib import HTML, signed_in

URL = "/api/v1/referrals"
STATUSES = ("submitted", "accepted", "declined", "redirected", "withdrawn", "closed")
ACTIONS = ("accept", "decline", "redirect", "withdraw", "close")

# How each step is offered on the referral's page (a button's form or a confirmation's link).
OFFERED_BY = {
    "accept": 'name="action" value="accept"',
    "decline": '/decline" role="button"',
    "redirect": 'name="action" value="redirect"',
    "withdraw": '/withdraw" role="button"',
    "close": '/close" role="button"',
}
NOTE_FORM = '/notes" novalidate'

# The police refer a victim to Glow's refuge; Glow's worker receives it.
REFERRAL = {
    "kind": "victim",
    "risk_level": "standard",
    "marac": False,
    "subject": {"name": "Parity Test Person", "area": "E07000192"},
    "safe_contact": {"phone": "07700 900123", "safe_to_call": True},
    "household": {"children": 0},
    "needs": {},
    "consent": {"given": True},
    "summary": "A referral the page and the API are both asked about.",
}


class World:
    """The demo partnership seen through both doors: the API's tokens and the pages' sessions."""

    def __init__(self, app, client, login, ids):
        self.app, self.client, self.login, self.ids = app, client, login, ids
        self.pages: dict[str, object] = {}
        self.glow_refuge = ids.service["Glow refuge"]
        self.elsewhere = ids.service["New Era victim support"]

    def page_client(self, username: str):
        if username not in self.pages:
            self.pages[username] = signed_in(self.app, username)
        return self.pages[username]

    def step(self, username: str, referral_id: str, action: str) -> int:
        body = {"action": action}
        if action == "decline":
            body["reason_code"] = "no_capacity"
        if action == "redirect":
            body["to_service_id"] = self.elsewhere
        if action == "close":
            body["outcome"] = "She moved on to her own home."
        response = self.client.post(
            f"{URL}/{referral_id}/transitions", json=body, headers=self.login(username)
        )
        return response.status_code

    def referral_in(self, status: str) -> str:
        """A new referral from the police to Glow's refuge, taken to ``status`` by its parties."""
        made = self.client.post(
            URL,
            json={**REFERRAL, "to_service_id": self.glow_refuge},
            headers=self.login("police.officer"),
        )
        assert made.status_code == 201, made.get_json()
        referral_id = made.get_json()["id"]
        path = {
            "submitted": [],
            "accepted": [("glow.staff", "accept")],
            "declined": [("glow.staff", "decline")],
            "redirected": [("glow.staff", "redirect")],
            "withdrawn": [("police.officer", "withdraw")],
            "closed": [("glow.staff", "accept"), ("glow.staff", "close")],
        }[status]
        for username, action in path:
            assert self.step(username, referral_id, action) == 200
        return referral_id

    def offered(self, username: str, referral_id: str) -> tuple[set[str], bool]:
        """The steps the referral's page offers this user, and whether it takes a note."""
        page = self.page_client(username).get(f"/referrals/{referral_id}", headers=HTML)
        if page.status_code != 200:
            assert page.status_code in (403, 404), page.status_code
            return set(), False
        return {a for a, mark in OFFERED_BY.items() if mark in page.text}, NOTE_FORM in page.text


def test_each_user_is_offered_on_a_referral_exactly_what_the_api_allows(
    app, client, login, ids, monkeypatch
):
    # Every demo user signs in twice (the API, the pages): more than a minute's sign-ins.
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT", "1000 per minute")
    world = World(app, client, login, ids)
    disagreements, allowed = [], set()
    for status in STATUSES:
        referral_id = world.referral_in(status)
        for username, *_ in USERS:
            offered, takes_note = world.offered(username, referral_id)
            for action in ACTIONS:
                answer = world.step(username, referral_id, action)
                # Refused (403), hidden (404) or not from this status (409): never a bad body.
                assert answer in (200, 403, 404, 409), (username, status, action, answer)
                if (answer == 200) != (action in offered):
                    disagreements.append((username, status, action, answer, sorted(offered)))
                if answer == 200:
                    allowed.add((username, status, action))
                    referral_id = world.referral_in(status)  # the step was taken: a new one
            noted = client.post(
                f"{URL}/{referral_id}/notes", json={"text": "Called."}, headers=login(username)
            )
            assert noted.status_code in (201, 403, 404), noted.status_code
            # The page takes notes while the referral is open; the API takes them after too.
            if takes_note != (noted.status_code == 201 and status in ("submitted", "accepted")):
                disagreements.append((username, status, "note", noted.status_code, takes_note))
    assert disagreements == []
    # The policy's table, as the API applied it: Glow receives, the police send.
    assert allowed == {
        ("glow.staff", "submitted", "accept"),
        ("glow.staff", "submitted", "decline"),
        ("glow.staff", "submitted", "redirect"),
        ("glow.staff", "accepted", "close"),
        ("police.officer", "submitted", "withdraw"),
        ("police.admin", "submitted", "withdraw"),
    }
