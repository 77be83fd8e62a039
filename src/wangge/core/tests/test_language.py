from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_pages_speak_chinese_even_to_an_english_browser(client):
    page = client.get("/login/", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert "用户名或手机号" in page.content.decode()


def test_the_language_menu_switches_pages_to_english(client):
    client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    page = client.get("/login/", headers={"Accept-Language": "zh-CN"})
    assert page.content.decode().count("用户名或手机号") == 0


def test_the_api_honours_accept_language(client):
    zh = client.get("/api/v1/accounts/me")
    en = client.get("/api/v1/accounts/me", headers={"Accept-Language": "en"})
    assert zh.status_code == en.status_code == 401
    assert zh.json()["error"]["message"] != en.json()["error"]["message"]
