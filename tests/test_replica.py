"""The gov.kz replica and the noisy site answer like the real things."""

from __future__ import annotations

import threading

import pytest
import requests

from monitor.replica import GovkzReplica, NoisySite
from monitor.replica.baseline import seed_paragraphs

CREATED = "2026-07-14T11:58:00.000+05:00"
V1 = "/api/v1/public/_/c/k6"
V2 = "/api/v2/_/c/k6"


@pytest.fixture
def replica(replica: GovkzReplica) -> GovkzReplica:
    """The conftest replica, with one Russian article (id 501)."""
    replica.add_article(
        "mfa",
        501,
        lang="ru",
        title="Брифинг",
        paragraphs=["Один.", "Два — три."],
        created_date=CREATED,
    )
    return replica


def client_of(site: GovkzReplica) -> requests.Session:
    """A client that sends what the portal's own page sends: an Origin and a Referer."""
    session = requests.Session()
    session.headers.update({"Origin": site.base_url, "Referer": site.base_url + "/"})
    return session


def _get_news(site: GovkzReplica, session: requests.Session, **headers: str) -> requests.Response:
    return session.get(site.api_item_url(501), headers={"Accept-Language": "ru", **headers})


def test_news_api_refuses_a_client_that_did_not_pass_the_challenge(replica: GovkzReplica) -> None:
    answer = _get_news(replica, client_of(replica))
    assert answer.status_code == 400
    assert answer.json() == {"error": "notAllowed"}


def test_v1_challenge_cookie_opens_the_news_api(replica: GovkzReplica) -> None:
    session = client_of(replica)
    assert session.post(replica.base_url + V1, json={}).status_code == 200
    answer = _get_news(replica, session)
    assert answer.status_code == 200
    item = answer.json()
    assert item["id"] == 501 and item["title"] == "Брифинг"
    assert "&mdash;" in item["body"]
    assert item["created_date"] == CREATED


def test_v2_challenge_headers_open_the_news_api_and_the_v1_cookie_does_not() -> None:
    with GovkzReplica(challenge="v2") as site:
        site.add_article("mfa", 501, lang="ru", title="T", paragraphs=["P"], created_date=CREATED)
        session = client_of(site)
        session.post(site.base_url + V1, json={})
        assert _get_news(site, session).status_code == 400
        pairs = session.post(site.base_url + V2, json={}).json()
        assert _get_news(site, session, **pairs).status_code == 200


def test_expired_challenge_is_refused_again(replica: GovkzReplica) -> None:
    session = client_of(replica)
    session.post(replica.base_url + V1, json={})
    replica.expire_challenge()
    assert _get_news(replica, session).status_code == 400


def test_broken_challenge_endpoint_answers_500(replica: GovkzReplica) -> None:
    replica.challenge_broken = True
    assert requests.post(replica.base_url + V1).status_code == 500


def test_removed_article_is_404_not_found(replica: GovkzReplica) -> None:
    session = client_of(replica)
    session.post(replica.base_url + V1, json={})
    replica.remove_article(501)
    answer = _get_news(replica, session)
    assert answer.status_code == 404
    assert answer.json() == {"error": "notFound"}


def test_article_in_another_language_is_not_found(replica: GovkzReplica) -> None:
    session = client_of(replica)
    session.post(replica.base_url + V1, json={})
    assert _get_news(replica, session, **{"Accept-Language": "kk"}).status_code == 404


def test_block_mode_answers_html_instead_of_json(replica: GovkzReplica) -> None:
    replica.block = True
    answer = requests.get(replica.api_item_url(501))
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/html")
    assert "robot" in answer.text


def test_list_endpoint_is_a_bare_array_newest_first(replica: GovkzReplica) -> None:
    replica.add_article(
        "mfa",
        502,
        lang="ru",
        title="Новее",
        paragraphs=["x"],
        created_date="2026-07-15T09:00:00.000+05:00",
    )
    replica.add_article(
        "edu",
        503,
        lang="ru",
        title="Чужое",
        paragraphs=["x"],
        created_date="2026-07-16T09:00:00.000+05:00",
    )
    session = client_of(replica)
    session.post(replica.base_url + V1, json={})
    items = session.get(replica.api_list_url("mfa"), headers={"Accept-Language": "ru"}).json()
    assert [item["id"] for item in items] == [502, 501]


def test_json_views_counter_changes_between_loads(replica: GovkzReplica) -> None:
    session = client_of(replica)
    session.post(replica.base_url + V1, json={})
    first, second = (_get_news(replica, session).json() for _ in range(2))
    assert first["number_of_views"] != second["number_of_views"]
    assert {k: v for k, v in first.items() if "views" not in k} == {
        k: v for k, v in second.items() if "views" not in k
    }


def test_article_page_is_a_javascript_shell_without_text(replica: GovkzReplica) -> None:
    page = requests.get(replica.page_url("mfa", 501, "ru")).text
    assert '<div id="root"></div>' in page
    assert "Брифинг" not in page and "Один." not in page


def test_prerendered_page_shows_article_and_noise_that_changes(replica: GovkzReplica) -> None:
    replica.prerendered = True
    first, second = (requests.get(replica.page_url("mfa", 501, "ru")).text for _ in range(2))
    assert "<h1" in first and "14 июля 2026 11:58" in first and "Один." in first
    assert first != second


def test_seed_baseline_serves_the_seed_paragraphs_with_entities(replica: GovkzReplica) -> None:
    url = replica.seed_baseline(article_id=7)
    assert url.endswith("/memleket/entities/mfa/press/news/details/7?lang=en")
    body = replica.articles.get("7", "en")
    assert body is not None
    assert "&ldquo;" in body.body_html and "&nbsp;" in body.body_html
    assert len(seed_paragraphs()) == 8


def test_stop_refuses_further_requests() -> None:
    site = GovkzReplica().start()
    url = site.base_url
    site.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "/", timeout=2)


def test_in_flight_requests_are_counted_per_host() -> None:
    with NoisySite(pages=3) as site:
        site.set_delay(0.3)
        threads = [
            threading.Thread(target=requests.get, args=(site.page_url(1),)) for _ in range(3)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert site.max_in_flight == 3
        assert site.max_in_flight_by_host == {f"127.0.0.1:{site.port}": 3}
        assert site.request_count == 3


def test_noisy_site_views_change_and_edits_show() -> None:
    with NoisySite(pages=2000, seed=3) as site:
        first, second = (requests.get(site.page_url(1999)).text for _ in range(2))
        assert "Views: " in first and first != second
        site.edit_page(1999, paragraphs=["Budget is 5 million."])
        assert "Budget is 5 million." in requests.get(site.page_url(1999)).text
        site.remove_page(1999)
        assert requests.get(site.page_url(1999)).status_code == 404
        assert requests.get(site.page_url(2001)).status_code == 404


def test_noisy_site_serves_windows_1251() -> None:
    with NoisySite() as site:
        site.set_page(1, "Новости", ["Привет, мир."], encoding="windows-1251")
        answer = requests.get(site.page_url(1))
        assert answer.headers["Content-Type"] == "text/html; charset=windows-1251"
        assert "Привет, мир.".encode("windows-1251") in answer.content


def test_noisy_site_etag_gives_304_while_content_is_unchanged() -> None:
    with NoisySite(etags=True) as site:
        etag = requests.get(site.page_url(1)).headers["ETag"]
        assert requests.get(site.page_url(1), headers={"If-None-Match": etag}).status_code == 304
        site.edit_page(1, title="New")
        assert requests.get(site.page_url(1), headers={"If-None-Match": etag}).status_code == 200
