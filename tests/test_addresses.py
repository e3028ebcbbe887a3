"""Internal addresses are refused unless the operator opts in: after DNS, at connect
time, on every redirect hop, and on the address actually connected to.

The whole suite runs with MONITOR_ALLOW_PRIVATE_NETWORKS=1 (its servers are on
loopback); these tests turn the policy on explicitly. Nothing here sends a packet
beyond loopback: refusals happen before any connect, and the "internal" targets that
could be reached (127.0.0.2) are our own servers, which must see no request.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_helpers import monitor
from http_faults import FaultServer, Reply, self_signed_certificate

from monitor.addresses import AddressPolicy, refusal, url_refusal
from monitor.config import load_config
from monitor.errors import ConfigError, FetchFailed
from monitor.fetch import Fetcher, FetchSettings
from monitor.runner import fetch_settings

ON = FetchSettings(allow_private_networks=False, retries=0, min_delay_per_host=0.0,
                   connect_timeout=2.0, read_timeout=2.0)
HOW_TO_ALLOW = "set [fetch] allow_private_networks = true or MONITOR_ALLOW_PRIVATE_NETWORKS=1"


class Resolver:
    """A DNS server under the test's control: each name answers its list of answers
    in turn (the last repeats), and every question is counted."""

    def __init__(self, **answers: list[list[str]]) -> None:
        self.answers = {name.replace("_", "."): list(a) for name, a in answers.items()}
        self.asked: list[str] = []

    def __call__(self, host: str) -> list[str]:
        self.asked.append(host)
        queue = self.answers[host]
        return queue.pop(0) if len(queue) > 1 else queue[0]


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as running:
        running.route("/page", Reply.page("<p>public page</p>"))
        yield running


def refused(fetcher: Fetcher, url: str) -> FetchFailed:
    with pytest.raises(FetchFailed) as caught:
        fetcher.get(url)
    assert caught.value.kind == "blocked", caught.value
    assert HOW_TO_ALLOW in str(caught.value)
    return caught.value


# --- the rules ------------------------------------------------------------------------


@pytest.mark.parametrize("address,kind", [
    ("127.0.0.1", "loopback"), ("127.8.9.10", "loopback"), ("::1", "loopback"),
    ("10.0.0.5", "private"), ("172.16.3.4", "private"), ("192.168.1.1", "private"),
    ("fc00::1", "private"), ("fd12:3456::1", "private"),
    ("169.254.169.254", "cloud metadata"), ("fd00:ec2::254", "cloud metadata"),
    ("100.100.100.200", "cloud metadata"), ("169.254.10.20", "link-local"),
    ("fe80::1", "link-local"), ("0.0.0.0", "unspecified"), ("::", "unspecified"),
    ("100.64.0.1", "shared (carrier-grade NAT)"), ("224.0.0.251", "multicast"),
    ("ff02::1", "multicast"), ("240.0.0.1", "reserved"),
    ("::ffff:127.0.0.1", "loopback"), ("::ffff:169.254.169.254", "cloud metadata"),
    ("::ffff:10.0.0.5", "private"), ("64:ff9b::a00:5", "private"),
    ("2002:a9fe:a9fe::1", "cloud metadata"), ("192.0.2.10", "private"),
])
def test_internal_addresses_are_named_by_kind(address: str, kind: str) -> None:
    assert refusal(address) == f"a {kind} address" or refusal(address) == f"an {kind} address"


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2001:4860:4860::8888",
                                     "::ffff:93.184.215.14"])
def test_public_addresses_pass(address: str) -> None:
    assert refusal(address) is None


@pytest.mark.parametrize("url,address", [
    ("http://10.0.0.5/x", "10.0.0.5"), ("http://127.1/x", "127.0.0.1"),
    ("http://2130706433/x", "127.0.0.1"), ("http://0x7f000001/", "127.0.0.1"),
    ("http://[::ffff:a9fe:a9fe]/latest", "::ffff:169.254.169.254"),
])
def test_an_address_written_as_a_number_is_refused_before_any_lookup(url: str,
                                                                    address: str) -> None:
    problem = url_refusal(url, allow_private=False)
    assert problem is not None and problem.startswith(f"{url}: {address} is ")
    assert HOW_TO_ALLOW in problem
    assert url_refusal(url, allow_private=True) is None
    assert url_refusal("https://www.gov.kz/x", allow_private=False) is None


# --- connect time -----------------------------------------------------------------------


def test_a_loopback_url_is_refused_without_a_connection(server: FaultServer) -> None:
    with Fetcher(ON) as fetcher:
        error = refused(fetcher, server.url("/page"))
    assert str(error).startswith(f"{server.url('/page')}: 127.0.0.1 is a loopback address;")
    assert server.hits("/page") == []


def test_a_name_that_resolves_to_loopback_is_refused(server: FaultServer) -> None:
    url = f"http://localhost:{server.port}/page"
    with Fetcher(ON) as fetcher:
        error = refused(fetcher, url)
    assert "localhost resolves to" in str(error) and "a loopback address" in str(error)
    assert server.hits("/page") == []


@pytest.mark.parametrize("target,kind", [
    ("http://169.254.169.254/latest/meta-data/", "a cloud metadata address"),
    ("http://10.0.0.5/admin", "a private address"),
    ("http://[fe80::1]/", "a link-local address"),
    ("http://internal.test/admin", "internal.test resolves to 10.1.2.3, a private address"),
])
def test_every_redirect_hop_is_checked(server: FaultServer, target: str, kind: str) -> None:
    server.route("/moved", Reply.redirect(target))
    # The first hop's address is let through, as a public server's would be.
    policy = AddressPolicy(exempt=["127.0.0.1"], resolve=Resolver(internal_test=[["10.1.2.3"]]))
    with Fetcher(ON, addresses=policy) as fetcher:
        error = refused(fetcher, server.url("/moved"))
    assert str(error).startswith(f"{server.url('/moved')}: a redirect to ")
    assert kind in str(error)
    assert len(server.hits("/moved")) == 1


def test_a_redirect_to_another_loopback_server_is_refused_before_it_is_reached(
        server: FaultServer) -> None:
    with FaultServer(host="127.0.0.2") as internal:
        internal.route("/secret", Reply.page("<p>internal</p>"))
        server.route("/moved", Reply.redirect(internal.url("/secret")))
        with Fetcher(ON, addresses=AddressPolicy(exempt=["127.0.0.1/32"])) as fetcher:
            error = refused(fetcher, server.url("/moved"))
        assert "127.0.0.2 is a loopback address" in str(error)
        assert internal.hits("/secret") == []


# --- DNS rebinding: the address checked is the address connected to ----------------------


@pytest.fixture
def twin(server: FaultServer) -> Iterator[FaultServer]:
    """A second server on 127.0.0.2, same port: what a rebinding DNS answer would reach."""
    try:
        with FaultServer(host="127.0.0.2", port=server.port) as other:
            other.route("/page", Reply.page("<p>internal</p>"))
            yield other
    except OSError as exc:  # the port is taken on 127.0.0.2: rare, not this test's point
        pytest.skip(f"cannot listen on 127.0.0.2:{server.port}: {exc}")


def test_a_name_answering_public_then_internal_is_fetched_from_the_checked_address(
        server: FaultServer, twin: FaultServer) -> None:
    dns = Resolver(rebind_test=[["127.0.0.1"], ["127.0.0.2"]])
    policy = AddressPolicy(exempt=["127.0.0.1"], resolve=dns)  # 127.0.0.1 plays "public"
    with Fetcher(ON, addresses=policy) as fetcher:
        answer = fetcher.get(f"http://rebind.test:{server.port}/page")
    assert answer.text() == "<p>public page</p>"
    assert dns.asked == ["rebind.test"]  # resolved once, for the check and the connect
    assert twin.hits("/page") == []
    assert server.hits("/page")[0].header("Host") == f"rebind.test:{server.port}"


def test_a_name_answering_internal_first_is_refused_whatever_it_answers_next(
        server: FaultServer, twin: FaultServer) -> None:
    dns = Resolver(rebind_test=[["127.0.0.2"], ["127.0.0.1"]])
    with Fetcher(ON, addresses=AddressPolicy(exempt=["127.0.0.1"], resolve=dns)) as fetcher:
        error = refused(fetcher, f"http://rebind.test:{server.port}/page")
    assert "rebind.test resolves to 127.0.0.2, a loopback address" in str(error)
    assert dns.asked == ["rebind.test"]
    assert twin.hits("/page") == [] and server.hits("/page") == []


def test_a_mixed_answer_connects_only_to_the_allowed_address(server: FaultServer) -> None:
    dns = Resolver(mixed_test=[["169.254.169.254", "127.0.0.1"]])
    with Fetcher(ON, addresses=AddressPolicy(exempt=["127.0.0.1"], resolve=dns)) as fetcher:
        assert fetcher.get(f"http://mixed.test:{server.port}/page").status == 200


@pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl CLI")
def test_tls_is_verified_for_the_name_while_connecting_to_the_checked_address(
        tmp_path: Path) -> None:
    cert, key = self_signed_certificate(tmp_path, "DNS:docs.test")
    dns = Resolver(docs_test=[["127.0.0.1"]])
    with FaultServer(certificate=(cert, key)) as tls, Fetcher(
            ON, addresses=AddressPolicy(exempt=["127.0.0.1"], resolve=dns)) as fetcher:
        tls.route("/page", Reply.page("<p>secure</p>"))
        answer = fetcher.get(f"https://docs.test:{tls.port}/page", ca_bundle=str(cert))
        assert answer.text() == "<p>secure</p>"  # SNI and the certificate: docs.test
        with pytest.raises(FetchFailed) as caught:  # asked by address: no such certificate
            fetcher.get(tls.url("/page"), ca_bundle=str(cert))
        assert caught.value.kind == "tls"


# --- the setting ------------------------------------------------------------------------


def test_the_policy_is_on_unless_the_environment_or_the_config_allows(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config_file = tmp_path / "monitor.toml"
    config_file.write_text("[fetch]\n", encoding="utf-8")
    monkeypatch.delenv("MONITOR_ALLOW_PRIVATE_NETWORKS")
    assert FetchSettings().allow_private_networks is False
    assert fetch_settings(load_config(str(config_file))).allow_private_networks is False
    config_file.write_text("[fetch]\nallow_private_networks = true\n", encoding="utf-8")
    assert fetch_settings(load_config(str(config_file))).allow_private_networks is True
    config_file.write_text("[fetch]\n", encoding="utf-8")
    monkeypatch.setenv("MONITOR_ALLOW_PRIVATE_NETWORKS", "1")
    assert fetch_settings(load_config(str(config_file))).allow_private_networks is True
    monkeypatch.setenv("MONITOR_ALLOW_PRIVATE_NETWORKS", "perhaps")
    with pytest.raises(ConfigError, match="MONITOR_ALLOW_PRIVATE_NETWORKS"):
        load_config(str(config_file))


def test_add_refuses_an_internal_address_up_front(tmp_path: Path) -> None:
    on = {"MONITOR_ALLOW_PRIVATE_NETWORKS": "0",
          "MONITOR_DATABASE_URL": f"sqlite:///{tmp_path / 'm.db'}"}
    assert monitor("init", cwd=tmp_path, env=on).code == 0
    result = monitor("add", "http://10.0.0.5/x", cwd=tmp_path, env=on)
    assert result.code == 2
    assert result.err.strip().endswith(
        "http://10.0.0.5/x: 10.0.0.5 is a private address; set [fetch] "
        "allow_private_networks = true or MONITOR_ALLOW_PRIVATE_NETWORKS=1 to allow it")
    assert "Traceback" not in result.err
    assert monitor("sources", cwd=tmp_path, env=on).out.startswith("no sources")
    allowed = {**on, "MONITOR_ALLOW_PRIVATE_NETWORKS": "1"}
    assert monitor("add", "--no-probe", "http://10.0.0.5/x", cwd=tmp_path, env=allowed).code == 0
