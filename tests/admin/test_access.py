"""Deny by default: every team web route declares its roles, and each role gets what the
declaration says — walked over the app's routes, so a new screen is covered by itself."""

from __future__ import annotations

import re

import pytest

from admin.deps import declared, web_routes
from bot.team.roles import ROLES
from tests.admin.conftest import Web

PUBLIC = {
    ("GET", "/"),
    ("GET", "/signin"),
    ("POST", "/signin"),
    ("GET", "/static/{name}"),
    ("GET", "/favicon.ico"),
}
"""The only routes open to anyone; a new public route must be added here on purpose."""
SAMPLES = {"name": "web.css", "ref": "K7QM-42", "flow": "main", "state": "menu"}
"""Values for path parameters (anything else: "1")."""


def concrete(path: str) -> str:
    return re.sub(r"{(\w+)(:\w+)?}", lambda m: SAMPLES.get(m.group(1), "1"), path)


def test_every_route_declares_its_roles_and_only_the_listed_ones_are_public(web: Web) -> None:
    routes = web_routes(web.app)
    assert {r.path for r in routes} >= {"/", "/signin", "/signout", "/queue", "/account"}
    undeclared = [(r.method, r.path) for r in routes if declared(r.route) is None]
    assert undeclared == []
    public = {(r.method, r.path) for r in routes if declared(r.route) == "public"}
    assert public == PUBLIC


def test_without_a_session_a_page_sends_to_sign_in_and_a_change_is_refused(web: Web) -> None:
    for route in web_routes(web.app):
        if (route.method, route.path) in PUBLIC:
            continue
        path = concrete(route.path)
        response = web.client.request(route.method, path, follow_redirects=False)
        if route.method == "GET":
            assert response.status_code == 303, path
            assert response.headers["location"].startswith("/signin?next="), path
        else:
            assert response.status_code == 403, (route.method, path)


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_what_the_route_declares(web: Web, role: str) -> None:
    for route in web_routes(web.app):
        roles = declared(route.route)
        if roles == "public":
            continue
        assert roles is not None
        web.sign_out()
        web.as_role(role)
        path = concrete(route.path)
        response = (
            web.client.get(path, follow_redirects=False)
            if route.method == "GET"
            else web.post(path)
        )
        if role in roles:
            assert response.status_code not in (401, 403), (role, route.method, path)
            assert not response.headers.get("location", "").startswith("/signin?"), path
        else:
            assert response.status_code == 403, (role, route.method, path)


def test_a_change_without_its_csrf_token_is_refused_and_changes_nothing(web: Web) -> None:
    web.as_role("admin")
    for route in web_routes(web.app):
        if route.method != "POST" or (route.method, route.path) in PUBLIC:
            continue
        path = concrete(route.path)
        for data in ({}, {"csrf": "forged"}, {"csrf": web.csrf() + "x"}):
            response = web.client.post(path, data=data, follow_redirects=False)
            assert response.status_code == 403, (path, data)
    assert web.client.get("/queue").status_code == 200  # still signed in: sign-out was refused


def test_pages_are_never_cached_and_carry_the_security_headers(web: Web) -> None:
    web.as_role("operator")
    for path in ("/queue", "/account", "/signin", "/queue/rows"):
        headers = web.client.get(path).headers
        assert headers["cache-control"] == "no-store", path
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert "unsafe-inline" not in headers["content-security-policy"]
        assert headers["referrer-policy"] == "no-referrer"
    assert "immutable" in web.client.get("/static/htmx.min.js").headers["cache-control"]
    assert web.client.get("/static/simulator.html").status_code == 404


def test_the_nav_shows_what_the_role_may_open(web: Web) -> None:
    web.as_role("operator")
    page = web.client.get("/queue").text
    assert 'href="/queue"' in page and 'href="/account"' in page
