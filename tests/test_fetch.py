"""The fetcher against a real misbehaving server on loopback: no mocks of HTTP."""



from __future__ import annotations

import contextlib
import itertools
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from http_faults import FaultServer, Reply, conditional, self_signed_certificate
from hypothesis import assume, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from monitor import __version__
from monitor.content import UndecodableText, bom_charset, decode
from monitor.errors import ConfigError, FetchFailed
from monitor.fetch import USER_AGENT, Fetcher, FetchSettings
from monitor.sources.base import Validators

FAST = FetchSettings(connect_timeout=1.0, read_timeout=1.0, retries=2, backoff_factor=0.01,
                     min_delay_per_host=0.0)

CYRILLIC = ("Министерство юстиции Республики Казахстан провело конференцию \"Права человека "
            "и развитие пенитенциарной системы\". В мероприятии приняли участие представители "
            "государственных органов, международных организаций и гражданского общества.")


def settings(**changes: object) -> FetchSettings:
    return FetchSettings(**{**FAST.__dict__, **changes})  # type: ignore[arg-type]



@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    with Fetcher(FAST) as client:
        yield client


def failure(fetcher: Fetcher, url: str, **kwargs: object) -> FetchFailed:
    with pytest.raises(FetchFailed) as caught:
        fetcher.get(url, **kwargs)  # type: ignore[arg-type]
    assert "\n" not in str(caught.value)
    return caught.value


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- retries -------------------------------------------------------------------------


def test_500_then_200_is_retried_and_succeeds(server: FaultServer, fetcher: Fetcher) -> None:
    server.route("/doc", Reply(500), Reply.page("<p>ok</p>"))
    answer = fetcher.get(server.url("/doc"))
    assert answer.status == 200 and answer.text() == "<p>ok</p>"
    assert len(server.hits("/doc")) == 2


def test_500_until_retries_run_out_is_server_error(server: FaultServer, fetcher: Fetcher) -> None:
    server.route("/down", Reply(503))
    error = failure(fetcher, server.url("/down"))
    assert (error.kind, error.status) == ("server_error", 503)
    assert "after 2 retries" in str(error)
    assert len(server.hits("/down")) == 3


def test_429_honours_retry_after(server: FaultServer, fetcher: Fetcher) -> None:
    server.route("/busy", Reply(429, headers={"Retry-After": "1"}), Reply.page("<p>ok</p>"))
    started = time.monotonic()
    assert fetcher.get(server.url("/busy")).status == 200
    assert time.monotonic() - started >= 0.95
    assert len(server.hits("/busy")) == 2


def test_retry_after_too_long_fails_fast(server: FaultServer, fetcher: Fetcher) -> None:
    server.route("/busy", Reply(429, headers={"Retry-After": "3600"}), Reply.page("<p>ok</p>"))
    started = time.monotonic()
    error = failure(fetcher, server.url("/busy"))
    assert (error.kind, error.status) == ("rate_limited", 429)
    assert "3600 s" in str(error)
    assert time.monotonic() - started < 0.5
    assert len(server.hits("/busy")) == 1


def test_429_until_retries_run_out_is_rate_limited(server: FaultServer, fetcher: Fetcher) -> None:
    server.route("/busy", Reply(429))
    assert failure(fetcher, server.url("/busy")).kind == "rate_limited"
    assert len(server.hits("/busy")) == 3


# --- network failures ----------------------------------------------------------------


def test_timeout_is_fetch_failed_timeout(server: FaultServer) -> None:
    server.route("/slow", Reply(200, b"<p>late</p>", {"Content-Type": "text/html"}, delay=2.0))
    with Fetcher(settings(read_timeout=0.3)) as fetcher:
        started = time.monotonic()
        assert failure(fetcher, server.url("/slow")).kind == "timeout"
    assert time.monotonic() - started < 1.5


def test_read_timeout_is_not_retried(server: FaultServer) -> None:
    server.route("/slow", Reply(200, b"<p>late</p>", {"Content-Type": "text/html"}, delay=1.0))
    with Fetcher(settings(read_timeout=0.2)) as fetcher:
        failure(fetcher, server.url("/slow"))
    assert len(server.hits("/slow")) == 1


def test_connection_refused_is_fetch_failed_connection(fetcher: Fetcher) -> None:
    url = f"http://127.0.0.1:{free_port()}/doc"
    error = failure(fetcher, url)
    assert error.kind == "connection"
    assert url in str(error) and "refused" in str(error)


def test_https_to_a_plain_http_server_is_tls_error(server: FaultServer) -> None:
    with Fetcher(settings(retries=0)) as fetcher:
        error = failure(fetcher, f"https://127.0.0.1:{server.port}/doc")
    assert error.kind == "tls"


needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl CLI")


@needs_openssl
def test_tls_is_verified_and_ca_bundle_trusts_a_private_ca(tmp_path: Path) -> None:
    cert, key = self_signed_certificate(tmp_path)
    with FaultServer(certificate=(cert, key)) as server, Fetcher(FAST) as fetcher:
        server.route("/doc", Reply.page("<p>secure</p>"))
        error = failure(fetcher, server.url("/doc"))
        assert error.kind == "tls" and "self-signed" in str(error)
        assert len(server.wait_for_errors(1)) == 1
        time.sleep(0.2)  # a retry would be a second refused handshake, recorded by now
        assert len(server.errors) == 1
        assert fetcher.get(server.url("/doc"), ca_bundle=str(cert)).text() == "<p>secure</p>"
    with Fetcher(settings(ca_bundle=str(cert))) as trusting, FaultServer((cert, key)) as other:
        other.route("/doc", Reply.page("<p>secure</p>"))
        assert trusting.get(other.url("/doc")).status == 200


def test_missing_ca_bundle_is_tls_error(fetcher: Fetcher, tmp_path: Path) -> None:
    error = failure(fetcher, "https://127.0.0.1:9/doc", ca_bundle=str(tmp_path / "none.pem"))
    assert error.kind == "tls" and "none.pem" in str(error)


@pytest.mark.parametrize("url", ["not a url", "ftp://example.org/doc", "http://", "http://[::1"])
def test_invalid_url_is_reported(fetcher: Fetcher, url: str) -> None:
    assert failure(fetcher, url).kind == "invalid_url"


# --- statuses ------------------------------------------------------------------------


@pytest.mark.parametrize("status", [404, 410])
def test_404_is_not_found(server: FaultServer, fetcher: Fetcher, status: int) -> None:
    server.route("/gone", Reply.page("<p>gone</p>", status=status))
    error = failure(fetcher, server.url("/gone"))
    assert (error.kind, error.status) == ("not_found", status)
    assert server.url("/gone") in str(error)


def test_403_is_http_error(server: FaultServer, fetcher: Fetcher) -> None:
    server.route("/secret", Reply.page("<p>no</p>", status=403))
    error = failure(fetcher, server.url("/secret"))
    assert (error.kind, error.status) == ("http_error", 403)


def test_allow_status_returns_400(server: FaultServer, fetcher: Fetcher) -> None:
    server.route("/challenge", Reply.page('{"challenge": "k6"}', "application/json", 400))
    answer = fetcher.get(server.url("/challenge"), allow_status={400})
    assert answer.status == 400
    assert answer.json() == {"challenge": "k6"}


# --- bodies --------------------------------------------------------------------------


def test_50_mb_body_is_too_large_and_stops_reading(server: FaultServer) -> None:
    server.route("/huge", Reply(200, headers={"Content-Type": "text/html"}, stream=50 * 2**20))
    with Fetcher(settings()) as fetcher:  # the default 10 MB cap
        started = time.monotonic()
        error = failure(fetcher, server.url("/huge"))
        took = time.monotonic() - started
    assert error.kind == "too_large" and "10 MB cap" in str(error)
    stream = server.streams[0]
    assert stream.done.wait(5)
    assert stream.aborted and stream.sent < 20 * 2**20
    assert took < 5


def test_content_length_over_cap_is_rejected_before_reading(server: FaultServer) -> None:
    server.route("/big", Reply.page(b"<p>" + b"x" * 4096))
    with Fetcher(settings(max_bytes=1024)) as fetcher:
        error = failure(fetcher, server.url("/big"))
    assert error.kind == "too_large" and "Content-Length" in str(error)


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("image/png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
        ("application/octet-stream", b"MZ\x90\x00\x03\x00\x00\x00"),
        ("application/pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"),
        ("text/html", b"<html>\x00\x00\x00\x01\x02garbage"),
    ],
)
def test_binary_body_is_rejected(server: FaultServer, fetcher: Fetcher, content_type: str,
                                 body: bytes) -> None:
    server.route("/file", Reply.page(body, content_type))
    assert failure(fetcher, server.url("/file")).kind == "binary"


def test_pdf_is_accepted_when_asked_for(server: FaultServer, fetcher: Fetcher) -> None:
    pdf = b"%PDF-1.7\n\x00\x01binary"
    server.route("/file", Reply.page(pdf, "application/pdf"))
    assert fetcher.get(server.url("/file"), accept=("application/pdf",)).content == pdf


def test_unexpected_content_type_is_rejected(server: FaultServer, fetcher: Fetcher) -> None:
    server.route("/api", Reply.page('{"a": 1}', "application/json"))
    error = failure(fetcher, server.url("/api"))
    assert error.kind == "content_type" and "application/json" in str(error)


def test_body_cut_short_is_connection_error(server: FaultServer, fetcher: Fetcher) -> None:
    headers = {"Content-Type": "text/html", "Content-Length": "1000", "Connection": "close"}
    server.route("/cut", Reply(200, b"<p>only the start", headers))
    error = failure(fetcher, server.url("/cut"))
    assert error.kind == "connection" and "broken" in str(error)


def test_missing_content_type_is_judged_by_its_bytes(server: FaultServer,
                                                     fetcher: Fetcher) -> None:
    server.route("/text", Reply(200, b"<p>plain</p>"))
    server.route("/blob", Reply(200, b"\x00\x01\x02\x03"))
    assert fetcher.get(server.url("/text")).content_type == ""
    assert failure(fetcher, server.url("/blob")).kind == "binary"


def test_empty_200_is_empty(server: FaultServer, fetcher: Fetcher) -> None:
    server.route("/blank", Reply.page(b""))
    assert failure(fetcher, server.url("/blank")).kind == "empty"


def test_windows_1251_meta_charset_decodes_cyrillic(server: FaultServer,
                                                    fetcher: Fetcher) -> None:
    page = f"<html><head><meta charset=windows-1251></head><body><p>{CYRILLIC}</p></body></html>"
    server.route("/ru", Reply.page(page.encode("cp1251"), "text/html"))
    answer = fetcher.get(server.url("/ru"))
    assert answer.charset is None
    assert CYRILLIC in answer.text()


def test_http_equiv_content_type_declares_charset(server: FaultServer, fetcher: Fetcher) -> None:
    page = ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=koi8-r">'
            f"</head><body>{CYRILLIC}</body></html>")
    server.route("/ru", Reply.page(page.encode("koi8-r"), "text/html"))
    assert CYRILLIC in fetcher.get(server.url("/ru")).text()


def test_koi8r_without_declaration_is_detected(server: FaultServer, fetcher: Fetcher) -> None:
    server.route("/ru", Reply.page(f"<p>{CYRILLIC}</p>".encode("koi8-r"), "text/plain"))
    assert CYRILLIC in fetcher.get(server.url("/ru")).text()


def test_wrong_http_charset_falls_back_to_the_page_declaration(server: FaultServer,
                                                               fetcher: Fetcher) -> None:
    page = f'<?xml version="1.0" encoding="windows-1251"?><html><p>{CYRILLIC}</p></html>'
    server.route("/ru", Reply.page(page.encode("cp1251"), "text/html; charset=utf-8"))
    assert CYRILLIC in fetcher.get(server.url("/ru")).text()


def test_stray_byte_in_declared_utf8_is_not_mojibake(server: FaultServer,
                                                     fetcher: Fetcher) -> None:
    body = f"<p>{CYRILLIC}</p>".encode() + b"\xd0"  # a letter cut in half at the end
    server.route("/ru", Reply.page(body))
    assert CYRILLIC in fetcher.get(server.url("/ru")).text()


def test_malformed_html_with_bogus_charset_still_decodes(server: FaultServer,
                                                         fetcher: Fetcher) -> None:
    page = f'<html><head><meta charset="x-no-such-charset"><title>Пресс<body><p>{CYRILLIC}<div'
    server.route("/bad", Reply.page(page.encode("utf-8"), "text/html"))
    assert CYRILLIC in fetcher.get(server.url("/bad")).text()


@hypothesis_settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2048), st.sampled_from([None, "utf-8", "windows-1251", "x-bogus"]))
def test_any_bytes_decode_or_fail_as_undecodable(body: bytes, charset: str | None) -> None:
    with contextlib.suppress(UndecodableText):  # the one failure allowed
        assert isinstance(decode(body, charset), str)


@given(st.text(max_size=500), st.sampled_from(["utf-8", "utf-16", "windows-1251", "koi8-r"]))
def test_declared_charset_round_trips(text: str, charset: str) -> None:
    try:
        body = text.encode(charset)
    except UnicodeEncodeError:
        return
    # A byte-order mark wins over any declaration (as in browsers): keep clear of one.
    assume(not text.startswith("\ufeff"))
    assume(bom_charset(body) == ("utf-16" if charset == "utf-16" else None))
    assert decode(body, charset) == text


def test_json_that_is_not_json_is_parse_error(server: FaultServer, fetcher: Fetcher) -> None:
    server.route("/api", Reply.page("<html>maintenance</html>", "application/json"))
    answer = fetcher.get(server.url("/api"), accept=("application/json",))
    with pytest.raises(FetchFailed) as caught:
        answer.json()
    assert caught.value.kind == "parse"


def test_post_sends_json_and_reads_json(server: FaultServer, fetcher: Fetcher) -> None:
    server.route("/api/v2/_/c/k6", Reply.page('{"x-k6-key": "abc"}', "application/json"))
    answer = fetcher.post(server.url("/api/v2/_/c/k6"), json={})
    assert answer.json() == {"x-k6-key": "abc"}
    (seen,) = server.hits("/api/v2/_/c/k6")
    assert (seen.method, seen.body) == ("POST", b"{}")


# --- redirects and conditional GET ---------------------------------------------------


def test_redirect_loop_is_reported(server: FaultServer, fetcher: Fetcher) -> None:
    server.route("/loop", Reply.redirect("/loop"))
    error = failure(fetcher, server.url("/loop"))
    assert error.kind == "redirect_loop"
    assert len(server.hits("/loop")) == FAST.max_redirects + 1


def test_redirects_are_recorded(server: FaultServer, fetcher: Fetcher) -> None:
    server.route("/a", Reply.redirect("/b", 301))
    server.route("/b", Reply.redirect(server.url("/c")))
    server.route("/c", Reply.page("<p>here</p>"))
    answer = fetcher.get(server.url("/a"))
    assert answer.url == server.url("/c")
    assert answer.redirects == (server.url("/a"), server.url("/b"))


def test_conditional_get_304_is_not_modified(server: FaultServer, fetcher: Fetcher) -> None:
    server.route("/doc", conditional('"v1"', Reply.page("<p>text</p>")))
    first = fetcher.get(server.url("/doc"))
    assert not first.not_modified and first.validators.etag == '"v1"'
    again = fetcher.get(server.url("/doc"), validators=first.validators)
    assert again.not_modified and again.status == 304 and again.content == b""
    assert server.hits("/doc")[-1].header("If-None-Match") == '"v1"'


def test_last_modified_is_sent_as_if_modified_since(server: FaultServer,
                                                    fetcher: Fetcher) -> None:
    stamp = "Thu, 11 Dec 2025 09:00:00 GMT"
    server.route("/doc", Reply.page("<p>text</p>", headers={"Last-Modified": stamp}))
    assert fetcher.get(server.url("/doc")).validators == Validators(None, stamp)
    fetcher.get(server.url("/doc"), validators=Validators(last_modified=stamp))
    assert server.hits("/doc")[-1].header("If-Modified-Since") == stamp


# --- politeness ----------------------------------------------------------------------


def run_in_threads(count: int, target: object) -> None:
    threads = [threading.Thread(target=target) for _ in range(count)]  # type: ignore[arg-type]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)


def test_per_host_concurrency_is_capped(server: FaultServer) -> None:
    server.route("/slow", Reply(200, b"<p>ok</p>", {"Content-Type": "text/html"}, delay=0.1))
    answers: list[int] = []
    with Fetcher(settings(max_concurrent_per_host=2)) as fetcher:
        run_in_threads(20, lambda: answers.append(fetcher.get(server.url("/slow")).status))
    assert answers == [200] * 20
    assert server.max_in_flight == 2


def test_min_delay_between_requests_to_one_host(server: FaultServer) -> None:
    server.route("/doc", Reply.page("<p>ok</p>"))
    with Fetcher(settings(max_concurrent_per_host=4, min_delay_per_host=0.2)) as fetcher:
        run_in_threads(4, lambda: fetcher.get(server.url("/doc")))
    starts = sorted(seen.at for seen in server.hits("/doc"))
    assert len(starts) == 4
    assert min(b - a for a, b in itertools.pairwise(starts)) >= 0.15  # 0.2 s, less jitter


def test_user_agent_names_contact(server: FaultServer) -> None:
    server.route("/doc", Reply.page("<p>ok</p>"))
    with Fetcher(settings(contact="newsroom@example.org")) as fetcher:
        fetcher.get(server.url("/doc"))
    assert server.hits("/doc")[0].header("User-Agent") == (
        f"govkz-monitor/{__version__} (+https://github.com/govkz-monitor; "
        "contact: newsroom@example.org)"
    )
    assert USER_AGENT.endswith(f"/{__version__} (+https://github.com/govkz-monitor)")


def test_contact_that_cannot_be_a_header_is_config_error() -> None:
    with pytest.raises(ConfigError):
        FetchSettings(contact="редакция\r\nX-Evil: 1")


def test_proxy_from_the_environment_is_still_used(monkeypatch: pytest.MonkeyPatch) -> None:
    with FaultServer() as proxy:
        proxy.route("http://watched.invalid/page", Reply.page("<p>through the proxy</p>"))
        monkeypatch.setenv("HTTP_PROXY", proxy.url(""))
        monkeypatch.setenv("NO_PROXY", "")
        with Fetcher(FAST) as fetcher:
            answer = fetcher.get("http://watched.invalid/page")
    assert b"through the proxy" in answer.content
    assert proxy.hits("http://watched.invalid/page")
