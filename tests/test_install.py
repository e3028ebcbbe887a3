"""govkz-monitor installs like a real package: a wheel, installed into a fresh venv
outside the checkout, initializes a store, verifies it, runs the demo and checks an
evidence bundle. The migrations and the baseline travel inside the wheel as package
data."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import REPO
from test_bundle import NAME, Demo, altered, demo, flip

from monitor import shipped
from monitor.errors import SchemaError
from monitor.replica.baseline import seed_path
from monitor.store import migrate, open_store

# What a developer's tree holds that a clean checkout does not.
NOT_IN_A_CHECKOUT = shutil.ignore_patterns(
    ".git", ".venv", "var", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache",
    ".mypy_cache", ".ruff_cache", ".hypothesis", ".work",
)


def run(args: list[str | Path], **kwargs: object) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True,
                          timeout=180, **kwargs)  # type: ignore[call-overload]
    assert done.returncode == 0, f"{args}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def test_migrations_and_baseline_are_read_from_the_package() -> None:
    package = Path(shipped.__file__).parent
    assert package / "_alembic" == migrate.SCRIPT_LOCATION
    assert seed_path().parent == package / "_snapshots"
    # In a checkout these are the top-level folders developers edit (and alembic.ini uses).
    assert sorted(p.name for p in (migrate.SCRIPT_LOCATION / "versions").glob("*.py")) == \
        sorted(p.name for p in (REPO / "alembic" / "versions").glob("*.py"))
    assert seed_path().read_bytes() == (REPO / "snapshots" / seed_path().name).read_bytes()


def test_an_install_without_its_migrations_says_so_instead_of_an_import_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As in site-packages, where a folder of that place exists but holds no env.py.
    empty = tmp_path / "_alembic"
    empty.mkdir()
    monkeypatch.setattr(migrate, "SCRIPT_LOCATION", empty)
    store = open_store(f"sqlite:///{tmp_path / 'monitor.db'}", check_schema=False)
    with pytest.raises(SchemaError, match=r"the schema migrations are missing from the "
                       r"installed package \(.*_alembic\); reinstall govkz-monitor"):
        migrate.upgrade(store.engine)
    store.engine.dispose()


@dataclass(frozen=True)
class Installed:
    """The wheel, and a fresh venv outside the checkout with it installed."""

    wheel: Path
    venv: Path

    @property
    def monitor(self) -> Path:
        return self.venv / "bin" / "monitor"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """Built once for the tests of this module: a wheel build and a venv cost seconds."""
    root = tmp_path_factory.mktemp("installed")
    # Build from a copy laid out as a clean checkout, then delete the copy: nothing the
    # installed program does may read the tree it was built from.
    source = root / "source"
    shutil.copytree(REPO, source, symlinks=True, ignore=NOT_IN_A_CHECKOUT)
    dist = root / "dist"
    # Offline: the test venv's setuptools builds it (the test extras pin setuptools>=77).
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-index",
         "--no-build-isolation", "--wheel-dir", dist, source])
    shutil.rmtree(source)
    (wheel,) = dist.glob("*.whl")
    venv = root / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", venv])
    python = venv / "bin" / "python"
    run([sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps",
         "--no-index", wheel])
    # The dependencies come from this test's venv, appended after the fresh venv's own
    # site-packages (so the wheel's `monitor` wins over the editable one), and pip
    # checks that they satisfy every requirement the wheel declares. Installing them
    # from the index would need the network.
    site = run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"])
    deps = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    (Path(site.stdout.strip()) / "test-dependencies.pth").write_text("\n".join(sorted(deps)))
    run([sys.executable, "-m", "pip", "--python", python, "check"])
    return Installed(wheel, venv)


def _outside(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A directory outside the checkout, and an environment without this test run's
    settings (no MONITOR_, PYTHON, VIRTUAL_ENV or PYTEST_ variables)."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("MONITOR_", "PYTHON", "VIRTUAL_ENV", "PYTEST_"))}
    return elsewhere, env


@pytest.mark.slow
def test_the_wheel_installed_outside_the_checkout_runs_init_verify_and_demo(
    installed: Installed, tmp_path: Path,
) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    for migration in (REPO / "alembic" / "versions").glob("*.py"):
        assert f"monitor/_alembic/versions/{migration.name}" in names
    assert {"monitor/_alembic/env.py", "monitor/_alembic/script.py.mako"} <= names
    for capture in (REPO / "snapshots").iterdir():
        assert f"monitor/_snapshots/{capture.name}" in names

    elsewhere, env = _outside(tmp_path)
    python = installed.venv / "bin" / "python"
    where = run([python, "-c", "import monitor; print(monitor.__file__)"], cwd=elsewhere, env=env)
    assert where.stdout.strip().startswith(str(installed.venv)), where.stdout

    init = run([installed.monitor, "init"], cwd=elsewhere, env=env)
    head = migrate.head_revision()
    assert f"(schema {head})" in init.stdout, init.stdout
    assert (elsewhere / "var" / "monitor.db").is_file()
    verify = run([installed.monitor, "verify"], cwd=elsewhere, env=env)
    assert verify.stdout.startswith("log intact"), verify.stdout

    demo = run([installed.monitor, "demo"], cwd=elsewhere, env=env)
    assert "is recorded as version 1" in demo.stdout, demo.stdout[-3000:]
    assert "monitor verify: log intact" in demo.stdout, demo.stdout[-3000:]
    assert "internal error" not in demo.stdout + demo.stderr


@pytest.mark.slow
def test_a_fresh_venv_from_the_wheel_verifies_a_bundle(
    installed: Installed, demo: Demo, tmp_path: Path
) -> None:
    elsewhere, env = _outside(tmp_path)
    env["HOME"] = str(elsewhere)  # a process whose home and working directory hold no store
    shutil.copy(demo.bundle, elsewhere / "b.zip")
    done = run([installed.monitor, "verify-bundle", "b.zip"], cwd=elsewhere, env=env)
    assert done.stdout.startswith(f"bundle intact: {NAME}"), done.stdout
    bad = elsewhere / "bad.zip"
    shutil.copy(altered(demo, tmp_path, "texts/2.txt", flip(10)), bad)
    failed = subprocess.run([installed.monitor, "verify-bundle", "bad.zip"],
                            cwd=elsewhere, env=env, capture_output=True, text=True, timeout=60)
    assert failed.returncode == 1 and "version 2: texts/2.txt is not the text" in failed.stdout


__all__ = ["demo"]  # the bundle fixture of test_bundle, used here
