from __future__ import annotations

from tests.conftest import Auth


def test_register_login_logout_round_trip(auth: Auth) -> None:
    response = auth.register()
    assert response.status_code == 201, response.json
    assert response.json["user"]["username"] == "alice"
    assert auth.logout().status_code == 204
    assert auth.client.get("/api/auth/session").status_code == 401
    response = auth.login("alice@example.com")
    assert response.status_code == 200
    session = auth.client.get("/api/auth/session")
    assert session.status_code == 200
    assert session.json["user"]["email"] == "alice@example.com"
