"""A newcomer who missed the demo password printed by `make run` sees it again, or gives the
demo users a new one; production refuses both."""

from __future__ import annotations

import stat

from tests.conftest import DEMO_PASSWORD


def test_a_newcomer_gets_a_new_demo_password_and_sees_it_again(app, client, tmp_path):
    original = app.config.get("DEMO_PASSWORD"), app.instance_path
    app.config["DEMO_PASSWORD"], app.instance_path = None, str(tmp_path)
    try:
        runner = app.test_cli_runner()
        missing = runner.invoke(args=["demo-password"])
        assert missing.exit_code == 1 and "make demo-password RESET=1" in missing.output

        made = runner.invoke(args=["demo-password", "--reset"])
        assert made.exit_code == 0, made.output
        password = made.output.rsplit(": ", 1)[1].strip()
        assert len(password) >= 16 and password != DEMO_PASSWORD
        kept = tmp_path / "demo-password"
        assert stat.S_IMODE(kept.stat().st_mode) == 0o600

        again = runner.invoke(args=["demo-password"])
        assert again.exit_code == 0 and again.output.strip().endswith(password)
        signed = client.post(
            "/api/v1/auth/login", json={"username": "glow.staff", "password": password}
        )
        assert signed.status_code == 200
        old = client.post(
            "/api/v1/auth/login", json={"username": "glow.staff", "password": DEMO_PASSWORD}
        )
        assert old.status_code == 401
    finally:
        app.config["DEMO_PASSWORD"], app.instance_path = original


def test_a_reset_ends_the_demo_users_sessions(app, client, login):
    headers = login("police.officer")
    assert client.get("/api/v1/referrals", headers=headers).status_code == 200
    result = app.test_cli_runner().invoke(args=["demo-password", "--reset"])
    assert result.exit_code == 0
    assert client.get("/api/v1/referrals", headers=headers).status_code == 401


def test_production_refuses_to_show_or_reset_it(app):
    original = app.config["APP_ENV"]
    app.config["APP_ENV"] = "production"
    try:
        for args in (["demo-password"], ["demo-password", "--reset"]):
            result = app.test_cli_runner().invoke(args=args)
            assert result.exit_code == 1 and "refused" in result.output
    finally:
        app.config["APP_ENV"] = original
