"""The shipped systemd units run by systemd itself, in their sandbox, on a machine
where systemd is not PID 1 (a container).

systemd's service manager also runs as a user instance, and root's user instance
applies every sandboxing setting the units use (User=, PrivateUsers=, ProtectSystem=,
the system call filter, MemoryDenyWriteExecute=, ...). It runs here in a private mount
namespace (`unshare --mount`) in which /etc, /var/lib and /opt are overlays whose
changes land in the test's folder: the user `govkz-monitor` (made by the shipped
sysusers.d file), /etc/govkz-monitor/monitor.toml, /var/lib/govkz-monitor and the
program in /opt/govkz-monitor are where the units expect them, and the machine's own
files are never touched.

What differs from a machine booted with systemd, and how it is bridged:
- PID 1 makes /run/systemd/system (how tools know systemd runs) and the inaccessible
  nodes in /run/systemd/inaccessible/ that ProtectHome= and ProtectKernel*= mount over
  what they hide; the namespace gets its own.
- A user instance puts StateDirectory= under $XDG_CONFIG_HOME: the instance is given
  XDG_CONFIG_HOME=/var/lib, so the store is /var/lib/govkz-monitor as on a real
  machine (ConfigurationDirectory= lands there too, which changes nothing the units
  read).
- There is no journal: a drop-in sends each unit's output to a file in the test's folder.
- /opt/govkz-monitor is a venv whose site-packages point at the test venv's, so it runs
  this checkout. Its Python is the tests' own, bound at /opt/govkz-monitor-python (with
  its lib/ in the namespace's ld.so.cache): an interpreter under /root (pyenv) is hidden
  from the units by ProtectHome=, as it should be, and another Python of the machine
  may lack what the test venv holds for its exact version.
"""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
UNITS = REPO / "deploy" / "systemd"
INSTALLED = "/opt/govkz-monitor"  # the install layout of README "Running as a service"
PYTHON_HOME = "/opt/govkz-monitor-python"  # this Python (sys.base_prefix), bound here
SANDBOX_MISSING = "the unit sandbox tests need"  # the start of every skip reason here
# The manager's own environment reaches every unit: not the tests' MONITOR_ settings.
MACHINE_ENVIRONMENT = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                       "LANG": "C.UTF-8"}


def readable_by_others(path: Path) -> bool:
    """Can a user other than the owner reach and read `path`?"""
    for part in [path, *path.parents]:
        mode = part.stat().st_mode
        if not mode & stat.S_IXOTH or (part == path and not mode & stat.S_IROTH):
            return False
    return True


def missing() -> str | None:
    """Why the sandbox cannot run here (a skip reason), or None."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    if os.geteuid() != 0:
        return f"{SANDBOX_MISSING} root (a mount namespace and root's user manager)"
    for tool in ("unshare", "nsenter", "systemctl", "systemd-sysusers"):
        if shutil.which(tool) is None:
            return f"{SANDBOX_MISSING} {tool}"
    if not Path("/lib/systemd/systemd").exists():
        return f"{SANDBOX_MISSING} /lib/systemd/systemd (apt-get install systemd)"
    if not Path(sys.base_prefix, "bin", f"python{version}").exists():
        return f"{SANDBOX_MISSING} python{version} in {sys.base_prefix}/bin"
    site = Path(sysconfig.get_paths()["purelib"])
    if not (readable_by_others(site) and readable_by_others(REPO)):
        # Not a missing tool: a checkout in a private home folder. .ci/run does not fail on
        # this one (its words differ); the units are still checked by systemd-analyze.
        return ("the units' sandbox run is skipped: the service user cannot read this "
                "checkout and its venv (a folder on the way is not readable by others)")
    return None


def _under_private_tmp() -> list[str]:
    """The checkout and the venv's site-packages, where a unit's PrivateTmp= hides them
    (a CI checkout in /tmp): a test drop-in binds them back in, read-only. An installed
    service has its code in /opt, which nothing hides."""
    paths = {str(REPO), sysconfig.get_paths()["purelib"]}
    return sorted(p for p in paths if p.startswith(("/tmp/", "/var/tmp/")))


SETUP = r"""set -eu
here={here}
for d in etc var/lib opt; do
  mkdir -p "$here/overlay/$d-up" "$here/overlay/$d-work"
  mount -t overlay overlay \
    -o "lowerdir=/$d,upperdir=$here/overlay/$d-up,workdir=$here/overlay/$d-work" "/$d"
done
mkdir -p "$here/run-systemd/system"
if [ ! -d /run/systemd ]; then mount -t tmpfs tmpfs /run && mkdir /run/systemd; fi
mount --bind "$here/run-systemd" /run/systemd
i=/run/systemd/inaccessible
mkdir -p $i && mkdir -m 0 $i/dir && install -m 0 /dev/null $i/reg && mkfifo -m 0 $i/fifo
mknod -m 0 $i/chr c 0 0 && mknod -m 0 $i/blk b 0 0
{python} -c "import socket; socket.socket(socket.AF_UNIX).bind('$i/sock')" && chmod 0 $i/sock
mkdir -p /etc/sysusers.d && cp {units}/sysusers.d/govkz-monitor.conf /etc/sysusers.d/
systemd-sysusers /etc/sysusers.d/govkz-monitor.conf >/dev/null
mkdir -p {python_home} && mount --bind {base_prefix} {python_home}
echo {python_home}/lib > /etc/ld.so.conf.d/govkz-monitor-python.conf && ldconfig
{python_home}/bin/python{version} -m venv --without-pip {installed}
echo 'import site; site.addsitedir("{site}")' \
  > {installed}/lib/python{version}/site-packages/checkout.pth
cat > {installed}/bin/monitor <<'SCRIPT'
#!{installed}/bin/python
# What pip writes for the console script (the guard: spawned processes import this).
import sys
from monitor.cli import main
if __name__ == "__main__":
    sys.exit(main())
SCRIPT
chmod -R a+rX {installed} && chmod 755 {installed}/bin/monitor
cp -a "$here/root/." /
chmod 700 "$here/runtime"
export XDG_RUNTIME_DIR="$here/runtime" XDG_CONFIG_HOME=/var/lib
exec /lib/systemd/systemd --user
"""


class ServiceManager:
    """systemd's service manager with the shipped units, in a namespace of its own.

    `root` (a folder mirroring /) is copied over the overlays before the manager starts:
    put /etc/govkz-monitor/monitor.toml and the environment file there."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.root = folder / "root"
        self.runtime = folder / "runtime"
        self.process: subprocess.Popen[bytes] | None = None
        unit_dir = self.runtime / "systemd" / "user"
        unit_dir.mkdir(parents=True)
        for unit in [*UNITS.glob("*.service"), *UNITS.glob("*.timer")]:
            shutil.copy(unit, unit_dir)
            drop_in = unit_dir / f"{unit.name}.d"
            drop_in.mkdir()
            log = self.log_path(unit.name)
            (drop_in / "output.conf").write_text(
                f"[Service]\nStandardOutput=append:{log}\nStandardError=inherit\n")
            hidden = _under_private_tmp()
            if hidden:  # a checkout in /tmp: the unit's PrivateTmp would hide the code
                (drop_in / "checkout.conf").write_text(
                    "[Service]\n" + "".join(f"BindReadOnlyPaths={p}\n" for p in hidden))
        self.root.mkdir()

    def log_path(self, unit_file: str) -> Path:
        return self.folder / f"{unit_file}.log"

    def log(self, unit_file: str) -> str:
        """The output of the unit (of every instance of a template: name it by the
        template's file name)."""
        path = self.log_path(unit_file)
        return path.read_text(encoding="utf-8") if path.exists() else ""

    def start(self) -> ServiceManager:
        if self.process is not None:
            return self
        version = f"{sys.version_info.major}.{sys.version_info.minor}"
        script = SETUP.format(here=self.folder, python=sys.executable, units=UNITS,
                              installed=INSTALLED, site=sysconfig.get_paths()["purelib"],
                              version=version, base_prefix=sys.base_prefix,
                              python_home=PYTHON_HOME)
        with open(self.folder / "manager.log", "wb") as out:
            self.process = subprocess.Popen(
                ["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
                stdout=out, stderr=subprocess.STDOUT, env=MACHINE_ENVIRONMENT)
        socket = self.runtime / "systemd" / "private"
        deadline = time.monotonic() + 20
        while not socket.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("the service manager did not start:\n"
                                     + (self.folder / "manager.log").read_text())
            time.sleep(0.05)
        return self

    def inside(self, *command: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """`command` in the manager's namespace (what its units see of the files)."""
        assert self.process is not None
        return subprocess.run(
            ["nsenter", "-t", str(self.process.pid), "-m", "env",
             f"XDG_RUNTIME_DIR={self.runtime}", *command],
            capture_output=True, text=True, timeout=timeout)

    def systemctl(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return self.inside("systemctl", "--user", "--no-pager", *args, timeout=timeout)

    def show(self, unit: str) -> dict[str, str]:
        done = self.systemctl("show", "-p", "ActiveState,SubState,Result,ExecMainStatus,"
                              "NRestarts,MainPID,User", unit)
        return dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)

    def stored(self, path: str) -> Path:
        """Where a file the units wrote under /var/lib is, seen from outside."""
        return self.folder / "overlay" / "var/lib-up" / path.removeprefix("/var/lib/")

    def stop(self) -> None:
        """The manager stops every unit (SIGTERM, as at shutdown) and exits; the
        namespace, its mounts and the units' processes go with it."""
        if self.process is None or self.process.poll() is not None:
            return
        self.systemctl("stop", "govkz-monitor*")
        self.process.send_signal(signal.SIGTERM)  # a user manager exits (exit.target)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def __enter__(self) -> ServiceManager:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
