"""`monitor alerts add/list/remove`: channels written into monitor.toml from the command
line, the rest of the file kept byte for byte, secrets refused, and the channel then
reaching a real SMTP server and webhook receiver on 127.0.0.1."""

from __future__ import annotations

import os
import re
import socket
import stat
import threading
from pathlib import Path

import pytest
from cli_helpers import Result, monitor
from test_webhook_secrets import record_a_change

from monitor.alerts import Dispatcher
from monitor.alerts.channels import routes
from monitor.config import load_config, parse_config
from monitor.config_file import locked, write_atomically
from monitor.replica.smtp_sink import SmtpSink
from monitor.replica.webhook_sink import SECRET, WebhookReceiver

ROOT = Path(__file__).resolve().parent.parent
HOOK_SECRET = "TEST_ALERTS_CLI_SECRET"
HOOK_URL = "TEST_ALERTS_CLI_URL"

COMMENTED = """\
# The newsroom's monitor: comments, odd spacing and order must survive.
[database]
url   =   "sqlite:///var/monitor.db"   # relative to this file

[fetch]
timeout = "30s"     # keep
# contact = "you@example.org"

# Channels below; the first is hand-written.
[[alerts]]
name = "hand"   # by hand
kind = "webhook"
url = "https://example.org/hooks/hand"
secret_env = "HAND_SECRET"

# An example left commented:
# [[alerts]]
# name = "ex"

[web]
listen = "127.0.0.1:8080"
"""


def write(tmp_path: Path, text: str = COMMENTED) -> Path:
    path = tmp_path / "monitor.toml"
    path.write_text(text, encoding="utf-8")
    return path


def alerts(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    return monitor("alerts", *args, cwd=tmp_path, env=env)


def added_block(before: str, after: str) -> str:
    """What `add` appended: the file before it must be the start of the file after."""
    assert after.startswith(before), "the text before the new table changed"
    return after[len(before):]


# --- adding each kind, then using it ------------------------------------------------
def test_an_email_channel_added_keeps_every_byte_of_the_file_and_reaches_an_smtp_server(
        tmp_path: Path, smtp: SmtpSink) -> None:
    path = write(tmp_path)
    added = alerts(tmp_path, "add", "email", "desk", "--host", "127.0.0.1", "--port",
                   str(smtp.port), "--security", "none", "--from", "monitor@example.org",
                   "--to", "desk@example.org", "--to", "Editor <ed@example.org>",
                   "--min-significance", "medium", "--events", "changed,removed",
                   "--language", "ru")
    assert added.code == 0, added.err
    assert "added email channel desk" in added.out and added.err == ""
    block = added_block(COMMENTED, path.read_text(encoding="utf-8"))
    assert block == ('\n[[alerts]]\nname = "desk"\nkind = "email"\nhost = "127.0.0.1"\n'
                     f'port = {smtp.port}\nsecurity = "none"\nfrom = "monitor@example.org"\n'
                     'to = ["desk@example.org", "Editor <ed@example.org>"]\n'
                     'min_significance = "medium"\nevents = ["changed", "removed"]\n'
                     'language = "ru"\n')
    channel = routes(load_config(str(path)))["desk"]
    assert channel.policy.min_significance == "medium"

    tried = alerts(tmp_path, "test", "desk")
    assert tried.code == 0, tried.err
    [message] = smtp.messages
    assert message["To"] == "desk@example.org, Editor <ed@example.org>"
    assert message["Content-Language"] == "ru"


def test_a_webhook_added_by_url_or_by_url_env_posts_a_signed_sample(
        tmp_path: Path, receiver: WebhookReceiver) -> None:
    path = write(tmp_path, "")
    env = {HOOK_SECRET: SECRET, HOOK_URL: receiver.url}
    by_url = alerts(tmp_path, "add", "webhook", "hook", "--url", receiver.url,
                    "--secret-env", HOOK_SECRET, "--digest", "1h", env=env)
    by_env = alerts(tmp_path, "add", "webhook", "hidden", "--url-env", HOOK_URL,
                    "--secret-env", HOOK_SECRET, "--sources", "mfa-*", "--sources", "adilet-*",
                    env=env)
    assert by_url.code == 0 and by_env.code == 0, by_url.err + by_env.err
    text = path.read_text(encoding="utf-8")
    assert text.startswith('[[alerts]]\nname = "hook"') and "\n\n[[alerts]]\nname = " \
        '"hidden"\nkind = "webhook"\nurl_env = "TEST_ALERTS_CLI_URL"\n' in text
    assert 'sources = ["mfa-*", "adilet-*"]' in text

    for name in ("hook", "hidden"):
        tried = alerts(tmp_path, "test", name, env=env)
        assert tried.code == 0 and "HTTP 204" in tried.out, tried.err
    assert len(receiver.ids()) == 2  # both verified against the secret


def test_an_apprise_channel_takes_its_url_from_the_environment_and_sends(
        tmp_path: Path, receiver: WebhookReceiver) -> None:
    write(tmp_path)
    env = {"TEST_ALERTS_CLI_APPRISE": receiver.plain_url.replace("http://", "json://")}
    added = alerts(tmp_path, "add", "apprise", "chat", "--url-env", "TEST_ALERTS_CLI_APPRISE",
                   "--digest", "1d", env=env)
    assert added.code == 0, added.err
    tried = alerts(tmp_path, "test", "chat", env=env)
    assert tried.code == 0, tried.err
    assert len(receiver.plain) == 1 and b"Sample press release" in receiver.plain[0]


def test_an_env_variable_not_set_is_a_warning_with_the_line_to_run(tmp_path: Path) -> None:
    path = write(tmp_path)
    added = alerts(tmp_path, "add", "wayback", "archive", "--access-key-env", "ARCHIVE_AK",
                   "--secret-key-env", "ARCHIVE_SK", env={"ARCHIVE_AK": "k"})
    assert added.code == 0, added.err
    assert added.err.splitlines() == [
        "warning: ARCHIVE_SK is not set here; the channel reads it when it sends: "
        "export ARCHIVE_SK='…'"]
    assert routes(load_config(str(path)))["archive"].channel.kind == "wayback"


# --- refused: secrets, bad values, no file -------------------------------------------
@pytest.mark.parametrize(("args", "names"), [
    (["email", "d", "--host", "h", "--from", "a@b.c", "--to", "d@e.f", "--password", "hunter2"],
     "--password-env"),
    (["email", "d", "--host", "h", "--from", "a@b.c", "--to", "d@e.f", "--username", "me"],
     "--username-env"),
    (["webhook", "d", "--url", "https://example.org/h", "--secret", "hunter2"], "--secret-env"),
    (["webhook", "d", "--url", "https://me:hunter2@example.org/h", "--secret-env", "S"],
     "--url-env"),
    (["webhook", "d", "--url", "https://example.org/h?token=hunter2", "--secret-env", "S"],
     "--url-env"),
    (["apprise", "d", "--url", "tgram://hunter2/123"], "--url-env"),
    (["wayback", "d", "--secret-key", "hunter2", "--access-key-env", "A"], "--secret-key-env"),
])
def test_a_secret_on_the_command_line_is_refused_naming_the_option_for_its_variable(
        tmp_path: Path, args: list[str], names: str) -> None:
    path = write(tmp_path)
    refused = alerts(tmp_path, "add", *args)
    assert refused.code == 2 and refused.out == ""
    [line] = refused.err.splitlines()
    assert line.startswith("error: --") and f"{names} VAR" in line
    assert path.read_text(encoding="utf-8") == COMMENTED


@pytest.mark.parametrize(("args", "says"), [
    (["email", "d", "--host", "h", "--from", "a@b.c", "--to", "d@e.f", "--port", "0"],
     "--port: must be a whole number >= 1"),
    (["email", "d", "--host", "h", "--from", "a@b.c"], "--to: is required"),
    (["email", "d", "--host", "h", "--from", "nobody", "--to", "d@e.f"],
     "--from: 'nobody' is not an e-mail address"),
    (["email", "d", "--host", "h", "--from", "a@b.c", "--to", "d@e.f", "--username-env", "U"],
     "--password-env: is required"),
    (["webhook", "d", "--url", "ftp://example.org/h", "--secret-env", "S"], "--url: "),
    (["webhook", "d", "--url", "https://example.org/h"], "--secret-env: is required"),
    (["webhook", "d", "--url-env", "U", "--secret-env", "not a name"],
     "--secret-env: not … is not an environment variable's name in capitals"),
    # Secrets in disguise: the secret given where a variable's name goes, tokens in a path,
    # a fragment or a query word, a password in the archive's address.
    (["webhook", "d", "--url-env", "U", "--secret-env", "whsec_MfKQ9r8GKYqXnmF2"],
     "--secret-env: whse… is not an environment variable's name"),
    (["email", "d", "--host", "h", "--from", "a@b.c", "--to", "d@e.f", "--username-env", "U",
      "--password-env", "Sup3rS3cretPassw0rd"], "--password-env: Sup3… is not"),
    (["webhook", "d", "--url", "https://hooks.slack.com/services/T000/B000/XXXXSECRET",
      "--secret-env", "S"], "is hooks.slack.com's webhook address"),
    (["webhook", "d", "--url", "https://example.org/h/9f8e7d6c5b4a39281706f5e4d3c2b1a0",
      "--secret-env", "S"], "looks like a secret token in its path"),
    (["webhook", "d", "--url", "https://example.org/h#token=abc", "--secret-env", "S"],
     "a credential in its fragment (token=…)"),
    (["webhook", "d", "--url", "https://example.org/h?client_secret=abc", "--secret-env", "S"],
     "a credential in its query (client_secret=…)"),
    (["wayback", "d", "--access-key-env", "A", "--secret-key-env", "B", "--api-url",
      "https://user:pass@web.archive.org/save"], "--api-url: the URL carries a user name"),
    (["webhook", "d", "--url", "https://example.org/h", "--secret-env", "S",
      "--events", "changed,sometimes"], "--events: 'sometimes' is not one of"),
    (["webhook", "d", "--url", "https://example.org/h", "--secret-env", "S",
      "--timezone", "Mars/Olympus"], "--timezone: 'Mars/Olympus'"),
    (["apprise", "d"], "--url: set exactly one of url and url_env"),
    (["webhook", "bad name", "--url", "https://example.org/h", "--secret-env", "S"],
     "NAME: 'bad name'"),
    (["webhook", "hand", "--url", "https://example.org/h", "--secret-env", "S"],
     "a channel named 'hand' is configured already (alerts[0] in monitor.toml)"),
])
def test_an_invalid_channel_is_refused_in_one_line_and_the_file_is_not_touched(
        tmp_path: Path, args: list[str], says: str) -> None:
    path = write(tmp_path)
    before = os.stat(path)
    refused = alerts(tmp_path, "add", *args)
    assert refused.code == 2, refused.out
    [line] = refused.err.splitlines()
    assert says in line
    assert path.read_text(encoding="utf-8") == COMMENTED
    after = os.stat(path)
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert [p.name for p in tmp_path.iterdir()] == ["monitor.toml"]  # no temporary left


def test_a_file_that_does_not_load_is_not_added_to(tmp_path: Path) -> None:
    broken = COMMENTED.replace('timeout = "30s"', 'timeout = "soon"')
    path = write(tmp_path, broken)
    refused = alerts(tmp_path, "add", "webhook", "w", "--url", "https://example.org/h",
                     "--secret-env", "S")
    assert refused.code == 2 and "fetch.timeout" in refused.err
    assert "nothing was written" in refused.err
    assert path.read_text(encoding="utf-8") == broken


def test_without_a_configuration_file_it_says_where_one_would_be(tmp_path: Path) -> None:
    refused = alerts(tmp_path, "add", "webhook", "w", "--url", "https://example.org/h",
                     "--secret-env", "S")
    assert refused.code == 2
    assert f"none at {tmp_path / 'monitor.toml'}" in refused.err and "touch" in refused.err
    assert list(tmp_path.iterdir()) == []
    named = monitor("--config", "elsewhere.toml", "alerts", "remove", "w", cwd=tmp_path)
    assert named.code == 2 and "elsewhere.toml: no such configuration file" in named.err


def test_the_file_keeps_its_mode_and_a_symlink_stays_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "etc" / "monitor.toml"
    real.parent.mkdir()
    real.write_text(COMMENTED, encoding="utf-8")
    real.chmod(0o640)
    (tmp_path / "monitor.toml").symlink_to(real)
    added = alerts(tmp_path, "add", "webhook", "w", "--url", "https://example.org/h",
                   "--secret-env", "S")
    assert added.code == 0, added.err
    assert (tmp_path / "monitor.toml").is_symlink()
    assert stat.S_IMODE(os.stat(real).st_mode) == 0o640
    assert 'name = "w"' in real.read_text(encoding="utf-8")


# --- remove ------------------------------------------------------------------------
def test_remove_takes_out_one_table_and_keeps_every_other_line(tmp_path: Path) -> None:
    path = write(tmp_path)
    for name in ("one", "two"):
        assert alerts(tmp_path, "add", "webhook", name, "--url", "https://example.org/h",
                      "--secret-env", "S").code == 0
    with_two = path.read_text(encoding="utf-8")

    gone = alerts(tmp_path, "remove", "one")
    assert gone.code == 0 and "removed channel one" in gone.out, gone.err
    assert path.read_text(encoding="utf-8") == with_two.replace(
        '[[alerts]]\nname = "one"\nkind = "webhook"\nurl = "https://example.org/h"\n'
        'secret_env = "S"\n\n', "")
    # The hand-written first table: its comment-only tail (the example) stays.
    assert alerts(tmp_path, "remove", "hand").code == 0
    text = path.read_text(encoding="utf-8")
    assert "# An example left commented:\n# [[alerts]]\n# name = \"ex\"\n" in text
    assert "# Channels below; the first is hand-written.\n" in text
    assert "name = \"hand\"" not in text
    assert alerts(tmp_path, "remove", "two").code == 0
    assert [a.name for a in load_config(str(path)).alerts] == []
    assert path.read_text(encoding="utf-8") == COMMENTED.replace(
        '[[alerts]]\nname = "hand"   # by hand\nkind = "webhook"\n'
        'url = "https://example.org/hooks/hand"\nsecret_env = "HAND_SECRET"\n\n', "")

    unknown = alerts(tmp_path, "remove", "nope")
    assert unknown.code == 2 and "no alert channel named 'nope'" in unknown.err


def test_remove_of_the_table_that_breaks_the_file_is_allowed(tmp_path: Path) -> None:
    path = write(tmp_path, COMMENTED.replace('kind = "webhook"', 'kind = "pigeon"'))
    assert alerts(tmp_path, "list").code == 2
    assert alerts(tmp_path, "remove", "hand").code == 0
    assert load_config(str(path)).alerts == ()


def test_remove_says_what_becomes_of_deliveries_still_in_the_outbox(
        tmp_path: Path, receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch,
        _sqlite_template) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    _sqlite_template.copy_to(url)
    write(tmp_path, f'[database]\nurl = "{url}"\n')
    assert alerts(tmp_path, "add", "webhook", "hook", "--url", receiver.url,
                  "--secret-env", HOOK_SECRET).code == 0
    from monitor.store import open_store

    store = open_store(url)
    record_a_change(store)
    receiver.answer_always(503)
    config = load_config(str(tmp_path / "monitor.toml"))
    with monkeypatch.context() as patched:
        patched.setenv(HOOK_SECRET, SECRET)
        assert Dispatcher(store, config).run_once().retrying == 1
    store.engine.dispose()

    gone = alerts(tmp_path, "remove", "hook")
    assert gone.code == 0, gone.err
    assert "1 delivery to it waits in the outbox" in gone.out
    assert "they go out if one is added again under that name" in gone.out


def test_a_file_with_alerts_after_another_table_and_crlf_line_ends_is_kept(
        tmp_path: Path) -> None:
    # tomlkit would move the second [[alerts]] up to the first when writing the file back.
    text = ('[[alerts]]\r\nname = "a"\r\nkind = "webhook"\r\nurl = "https://e.org/a"\r\n'
            'secret_env = "S"\r\n\r\n[web]\r\nlisten = "127.0.0.1:1"\r\n\r\n[[alerts]]\r\n'
            'name = "b"\r\nkind = "webhook"\r\nurl = "https://e.org/b"\r\nsecret_env = "S"')
    path = write(tmp_path, text)
    assert alerts(tmp_path, "add", "webhook", "c", "--url", "https://e.org/c",
                  "--secret-env", "S").code == 0
    after = path.read_bytes().decode()
    assert after == text + '\r\n\r\n[[alerts]]\r\nname = "c"\r\nkind = "webhook"\r\n' \
        'url = "https://e.org/c"\r\nsecret_env = "S"\r\n'
    assert alerts(tmp_path, "remove", "c").code == 0
    assert path.read_bytes().decode() == text + "\r\n"
    assert alerts(tmp_path, "remove", "a").code == 0
    assert path.read_bytes().decode() == text[text.index("[web]"):] + "\r\n"


def test_a_webhook_url_from_the_environment_never_shows_its_token(tmp_path: Path) -> None:
    write(tmp_path, "")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    env = {HOOK_SECRET: SECRET, HOOK_URL: f"http://127.0.0.1:{closed}/hooks/T0K3NT0K3N"}
    assert alerts(tmp_path, "add", "webhook", "w", "--url-env", HOOK_URL, "--secret-env",
                  HOOK_SECRET, env=env).code == 0
    tried = alerts(tmp_path, "test", "w", env=env)
    assert tried.code == 1 and "Connection refused" in tried.err
    assert f"127.0.0.1:{closed}/…" in tried.err and "T0K3N" not in tried.err + tried.out
    unset = alerts(tmp_path, "test", "w", env={HOOK_SECRET: SECRET})
    assert unset.code == 2 and f"environment variable {HOOK_URL} is not set" in unset.err


# --- list --------------------------------------------------------------------------
def test_list_shows_each_channel_without_its_secrets(tmp_path: Path) -> None:
    write(tmp_path)
    env = {HOOK_SECRET: SECRET, HOOK_URL: "https://example.org/hooks/T0K3NT0K3N"}
    assert alerts(tmp_path, "add", "webhook", "hidden", "--url-env", HOOK_URL, "--secret-env",
                  HOOK_SECRET, "--events", "changed", "--digest", "1d", env=env).code == 0
    listed = alerts(tmp_path, "list", env=env)
    assert listed.code == 0, listed.err
    assert re.search(r"^hand  webhook  https://example.org/…$", listed.out, re.M)
    assert "needs HAND_SECRET (NOT SET)" in listed.out
    assert f"needs {HOOK_URL} (set), {HOOK_SECRET} (set)" in listed.out
    data = alerts(tmp_path, "list", "--format", "json", env=env).json()
    assert [c["name"] for c in data] == ["hand", "hidden"]
    hidden = data[1]
    assert (hidden["events"], hidden["digest_seconds"]) == (["changed"], 86400.0)
    assert hidden["variables"] == [
        {"key": "url_env", "variable": HOOK_URL, "set": True},
        {"key": "secret_env", "variable": HOOK_SECRET, "set": True}]
    for output in (listed.out, str(data)):
        assert "T0K3N" not in output and SECRET not in output and "/hooks/hand" not in output


def test_list_without_channels_says_how_to_add_one(tmp_path: Path) -> None:
    write(tmp_path, "[fetch]\n")
    listed = alerts(tmp_path, "list")
    assert listed.code == 0 and "no alert channels" in listed.out
    assert "monitor alerts add" in listed.out


# --- a second writer and the shipped examples ------------------------------------------
def test_a_second_writer_waits_for_the_lock_and_edits_the_file_the_first_one_wrote(
        tmp_path: Path) -> None:
    path = write(tmp_path)
    seen: list[str] = []
    started = threading.Event()

    def second() -> None:
        started.set()
        with locked(path) as text:
            seen.append(text)

    with locked(path) as text:
        waiter = threading.Thread(target=second)
        waiter.start()
        started.wait()
        waiter.join(0.2)
        assert waiter.is_alive() and seen == []  # it waits for the first writer
        write_atomically(path, text + "# the first writer's line\n")
    waiter.join(5)
    assert seen == [COMMENTED + "# the first writer's line\n"]


def shipped_examples() -> list[str]:
    """Each commented [[alerts]] example of the shipped monitor.toml, uncommented."""
    text = (ROOT / "monitor.toml").read_text(encoding="utf-8")
    blocks = re.findall(r"^# \[\[alerts\]\]\n(?:#[^\n]*\S[^\n]*\n)*", text, re.M)
    return [re.sub(r"^# ?", "", block, flags=re.M) for block in blocks]


def test_the_shipped_config_carries_a_valid_commented_example_of_every_channel() -> None:
    shipped = ROOT / "monitor.toml"
    text = shipped.read_text(encoding="utf-8")
    examples = shipped_examples()
    kinds = []
    for example in examples:
        config = parse_config(text + "\n" + example, shipped)
        [channel] = routes(config).values()
        kinds.append(channel.channel.kind)
    assert sorted(kinds) == ["apprise", "email", "wayback", "webhook"]
    together = parse_config(text + "\n" + "\n".join(examples), shipped)
    assert len(routes(together)) == 4
