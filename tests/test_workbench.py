"""The set-up step of the README's test command: the Debian packages the tests need.

``python3 workbench.py test`` must work on a new Debian machine with nothing but ``python3``:
before pytest (and before ``.venv``) it installs ``chromium``, ``fonts-noto-cjk``,
``poppler-utils`` and ``postgresql`` when they are missing and it can (as root, or through
``sudo -n``), and otherwise stops within seconds printing the one command to run.

These tests run the README's command with a freshly created venv's Python (standard library
only) against a fake machine: ``WORKBENCH_SYSTEM_ROOT`` points the package detection at an
empty directory, ``WORKBENCH_EUID`` chooses root or not, and ``PATH`` holds only a fake
``apt-get`` (and sometimes a fake ``sudo``) that record their arguments; no chromium on it.
Nothing is installed for real.
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import workbench

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ["chromium", "fonts-noto-cjk", "poppler-utils", "postgresql"]
INSTALL = f"apt-get -o DPkg::Lock::Timeout={workbench.APT_LOCK_TIMEOUT} install -y " + " ".join(PACKAGES)
MANUAL = "sudo apt-get install -y chromium fonts-noto-cjk poppler-utils postgresql"
PG_MAJOR = "15"  # what the fake apt-get installs where a package's path says "*"
GIVE_UP_WITHIN = 10.0  # seconds: the command must stop this fast when it cannot install

_FAKE_APT = """#!/bin/sh
# fake apt-get: records its arguments; "install" creates the packages' files (unless told not to)
echo "apt-get $*" >> "{log}"
case " $* " in
  *" install "*)
    [ -n "$FAKE_APT_INSTALLS_NOTHING" ] && exit 0
    for f in {files}; do /bin/mkdir -p "{root}$(/usr/bin/dirname "$f")"; : > "{root}$f"; done ;;
esac
exit 0
"""

_FAKE_SUDO = """#!/bin/sh
# fake sudo: records its arguments; only "sudo -n CMD ..." and only when no password is needed
echo "sudo $*" >> "{log}"
[ "$1" = "-n" ] || exit 1
if [ -n "$FAKE_SUDO_NEEDS_PASSWORD" ]; then echo "sudo: a password is required" >&2; exit 1; fi
shift
exec "$@"
"""


@pytest.fixture(scope="module")
def fresh_python(tmp_path_factory) -> Path:
    """The Python of a venv created just now from the README's ``python3``: no packages."""
    venv = tmp_path_factory.mktemp("fresh") / "venv"
    python3 = shutil.which("python3") or sys.executable
    subprocess.run([python3, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    return venv / "bin" / "python"


class FakeMachine:
    """An empty system root, a PATH of fake tools, and the log those tools write."""

    def __init__(self, base: Path, sudo: bool = False, apt: bool = True):
        self.root, self.bin, self.log = base / "root", base / "bin", base / "calls.log"
        self.root.mkdir()
        self.bin.mkdir()
        files = " ".join(f.replace("*", PG_MAJOR) for _, fs in workbench.SYSTEM_PACKAGES
                         for f in fs)
        if apt:
            self._tool("apt-get", _FAKE_APT.format(log=self.log, root=self.root, files=files))
        if sudo:
            self._tool("sudo", _FAKE_SUDO.format(log=self.log))
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}
        self.env.update(PATH=str(self.bin), WORKBENCH_SYSTEM_ROOT=str(self.root))

    def _tool(self, name: str, text: str) -> None:
        (self.bin / name).write_text(text)
        (self.bin / name).chmod(0o755)

    def with_apt_lists(self) -> "FakeMachine":
        lists = self.root / workbench.APT_LISTS.lstrip("/")
        lists.mkdir(parents=True)
        (lists / "deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4").touch()
        return self

    def install_everything(self) -> None:
        for _, files in workbench.SYSTEM_PACKAGES:
            for f in files:
                path = self.root / f.replace("*", PG_MAJOR).lstrip("/")
                path.parent.mkdir(parents=True, exist_ok=True)
                path.touch()

    def calls(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []

    def run_test_command(self, python: Path, *pytest_args: str, euid: int, timeout: float = 300,
                         **env: str) -> tuple[subprocess.CompletedProcess, float]:
        """Run ``<python> workbench.py test ARGS`` (the README's command) on this machine."""
        start = time.monotonic()
        result = run_timeboxed([str(python), str(REPO / "workbench.py"), "test", *pytest_args],
                               timeout, cwd=self.root,
                               env=dict(self.env, WORKBENCH_EUID=str(euid), **env))
        return result, time.monotonic() - start


def run_timeboxed(cmd: list[str], timeout: float, **kwargs) -> subprocess.CompletedProcess:
    """``subprocess.run`` in a session of its own, killed with all its children on timeout
    (a regression that reached pip must not leave it running)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL, start_new_session=True, **kwargs)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def _output(result: subprocess.CompletedProcess) -> str:
    return result.stdout + result.stderr


def test_the_fake_machine_lacks_what_the_real_one_may_have(tmp_path):
    machine = FakeMachine(tmp_path)
    assert shutil.which("chromium", path=machine.env["PATH"]) is None
    assert shutil.which("pdftotext", path=machine.env["PATH"]) is None
    assert workbench.missing_system_packages(machine.root) == PACKAGES
    machine.install_everything()
    assert workbench.missing_system_packages(machine.root) == []
    (machine.root / "usr/bin/pdffonts").unlink()
    assert workbench.missing_system_packages(machine.root) == ["poppler-utils"]


def test_postgresql_of_any_major_version_counts_as_installed(tmp_path):
    """PostgreSQL's programs live in /usr/lib/postgresql/<major>/bin: any major will do
    (Debian 12 ships 15, Debian 13 ships 17), and the programs the tests use must be there."""
    machine = FakeMachine(tmp_path)
    machine.install_everything()
    pg = machine.root / "usr/lib/postgresql"
    (pg / PG_MAJOR).rename(pg / "17")
    assert workbench.missing_system_packages(machine.root) == []
    (pg / "17/bin/pg_ctl").unlink()
    assert workbench.missing_system_packages(machine.root) == ["postgresql"]


def test_root_installs_the_missing_packages_then_runs_pytest(tmp_path, fresh_python):
    """A new container: root, no package lists yet → apt-get update, then install."""
    machine = FakeMachine(tmp_path)
    result, _ = machine.run_test_command(fresh_python, "--version", euid=0)
    assert result.returncode == 0, _output(result)
    assert machine.calls() == ["apt-get update", INSTALL]
    assert "installing Debian packages " + " ".join(PACKAGES) in result.stdout
    assert "pytest" in _output(result)  # the command went on to pytest
    assert workbench.missing_system_packages(machine.root) == []


def test_root_with_package_lists_installs_only_what_is_missing(tmp_path, fresh_python):
    machine = FakeMachine(tmp_path).with_apt_lists()
    machine.install_everything()
    (machine.root / "usr/bin/chromium").unlink()
    result, _ = machine.run_test_command(fresh_python, "--version", euid=0)
    assert result.returncode == 0, _output(result)
    assert machine.calls() == [
        f"apt-get -o DPkg::Lock::Timeout={workbench.APT_LOCK_TIMEOUT} install -y chromium"]


def test_passwordless_sudo_installs_the_missing_packages(tmp_path, fresh_python):
    machine = FakeMachine(tmp_path, sudo=True).with_apt_lists()
    result, _ = machine.run_test_command(fresh_python, "--version", euid=1000)
    assert result.returncode == 0, _output(result)
    assert f"sudo -n {INSTALL}" in machine.calls()
    assert [c for c in machine.calls() if c.startswith("sudo")] == [
        "sudo -n apt-get --version", f"sudo -n {INSTALL}"]
    assert "pytest" in _output(result)


@pytest.mark.parametrize("sudo", ["none", "needs a password"])
def test_without_root_or_sudo_it_stops_at_once_with_the_command(tmp_path, fresh_python, sudo):
    machine = FakeMachine(tmp_path, sudo=sudo != "none").with_apt_lists()
    result, seconds = machine.run_test_command(fresh_python, "--version", euid=1000,
                                               timeout=GIVE_UP_WITHIN,
                                               FAKE_SUDO_NEEDS_PASSWORD="1")
    assert result.returncode != 0
    assert seconds < GIVE_UP_WITHIN
    assert result.stderr.splitlines()[-1].strip() == MANUAL  # the last line: just the command
    assert "pytest" not in _output(result)  # stopped before pytest (and before .venv)
    assert not [c for c in machine.calls() if "install" in c]  # nothing installed


def test_on_a_new_checkout_it_stops_before_creating_the_environment(tmp_path, fresh_python):
    """A copy of the launcher with no ``.venv`` beside it: nothing is created or downloaded."""
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    for name in ("workbench.py", "pyproject.toml"):
        shutil.copy(REPO / name, checkout / name)
    machine = FakeMachine(tmp_path).with_apt_lists()
    start = time.monotonic()
    result = run_timeboxed([str(fresh_python), "workbench.py", "test"], GIVE_UP_WITHIN,
                           cwd=checkout, env=dict(machine.env, WORKBENCH_EUID="1000"))
    assert result.returncode != 0 and time.monotonic() - start < GIVE_UP_WITHIN
    assert result.stderr.splitlines()[-1].strip() == MANUAL
    assert sorted(p.name for p in checkout.iterdir()) == ["pyproject.toml", "workbench.py"]


def test_without_package_lists_the_command_updates_them_first(tmp_path, fresh_python):
    machine = FakeMachine(tmp_path)  # a container whose apt lists were cleaned
    result, seconds = machine.run_test_command(fresh_python, euid=1000, timeout=GIVE_UP_WITHIN)
    assert result.returncode != 0 and seconds < GIVE_UP_WITHIN
    assert result.stderr.splitlines()[-1].strip() == f"sudo apt-get update && {MANUAL}"


def test_without_apt_get_even_root_gets_the_command_without_sudo(tmp_path, fresh_python):
    machine = FakeMachine(tmp_path, apt=False).with_apt_lists()
    result, seconds = machine.run_test_command(fresh_python, euid=0, timeout=GIVE_UP_WITHIN)
    assert result.returncode != 0 and seconds < GIVE_UP_WITHIN
    assert result.stderr.splitlines()[-1].strip() == MANUAL.removeprefix("sudo ")


def test_an_install_that_leaves_files_missing_is_an_error(tmp_path, fresh_python):
    machine = FakeMachine(tmp_path).with_apt_lists()
    result, _ = machine.run_test_command(fresh_python, "--version", euid=0, timeout=60,
                                         FAKE_APT_INSTALLS_NOTHING="1")
    assert result.returncode != 0
    assert "still missing" in result.stderr and "/usr/bin/chromium" in result.stderr
    assert "pytest" not in _output(result)


def test_nothing_missing_means_no_apt_and_no_output_of_its_own(tmp_path, fresh_python):
    machine = FakeMachine(tmp_path, sudo=True).with_apt_lists()
    machine.install_everything()
    result, _ = machine.run_test_command(fresh_python, "--version", euid=1000)
    assert result.returncode == 0, _output(result)
    assert machine.calls() == []
    assert "workbench:" not in _output(result)


def test_python3_venv_comes_along_when_it_helps_but_is_never_required(tmp_path, monkeypatch):
    """Debian's python3 without ensurepip and no .venv yet: python3-venv is installed with the
    others when installing is possible, and its absence alone never stops the command."""
    monkeypatch.setattr(workbench, "venv_package_wanted", lambda venv: True)
    machine = FakeMachine(tmp_path).with_apt_lists()
    monkeypatch.setenv("PATH", machine.env["PATH"])
    machine.install_everything()
    workbench.ensure_system_packages(machine.root, euid=1000)  # cannot install: not an error
    assert machine.calls() == []
    workbench.ensure_system_packages(machine.root, euid=0)
    assert machine.calls() == [
        f"apt-get -o DPkg::Lock::Timeout={workbench.APT_LOCK_TIMEOUT} install -y python3-venv"]


def test_python3_venv_is_not_wanted_once_the_environment_exists(tmp_path):
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "python").touch()
    assert not workbench.venv_package_wanted(tmp_path)


@pytest.mark.skipif(importlib.util.find_spec("ensurepip") is None, reason="no ensurepip here")
def test_python3_venv_is_not_wanted_when_ensurepip_exists(tmp_path):
    assert not workbench.venv_package_wanted(tmp_path / "no-venv-yet")


# -- app --case: the case file every kernel opens ------------------------------------------------

class AppLaunch:
    """``workbench.main(["app", ...])`` with the slow or final steps stubbed: ``.venv`` is this
    interpreter (it holds opwb), the port is free, nothing is compiled, and ``os.execve``
    records what Voila would have been started with instead of replacing the process."""

    def __init__(self, monkeypatch):
        self.calls: list[str] = []
        self.exec: tuple | None = None
        monkeypatch.setattr(workbench, "ensure_venv", self._venv)
        monkeypatch.setattr(workbench, "port_is_free", lambda port: True)
        monkeypatch.setattr(workbench, "compile_bytecode", lambda *a, **k: None)
        monkeypatch.setattr(workbench, "prepare_bases", lambda *a, **k: None)
        monkeypatch.setattr(workbench.os, "execve", self._execve)

    def _venv(self, *args, **kwargs) -> Path:
        self.calls.append("ensure_venv")
        return Path(sys.executable)

    def _execve(self, path, argv, env) -> None:
        self.exec = (path, list(argv), dict(env))

    @property
    def env(self) -> dict:
        assert self.exec is not None, "Voila was not started"
        return self.exec[2]

    def __call__(self, *args: str) -> int:
        return workbench.main(["app", "--no-browser", "--port", "8999", *args])


@pytest.fixture
def app_launch(monkeypatch, tmp_path) -> AppLaunch:
    monkeypatch.chdir(tmp_path)  # cmd_app chdirs to the repository; restored afterwards
    return AppLaunch(monkeypatch)


def test_case_env_is_opwbs():
    from opwb.data.case import CASE_ENV

    assert workbench.CASE_ENV == CASE_ENV


def test_app_with_a_missing_case_file_stops_at_once_naming_it(app_launch, tmp_path, capsys):
    assert app_launch("--case", "banks/nowhere/case.toml") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err  # one line
    assert str(tmp_path / "banks" / "nowhere" / "case.toml") in err  # absolute, from the cwd
    assert app_launch.calls == [] and app_launch.exec is None  # no .venv, no Voila


def test_app_with_an_invalid_case_shows_its_data_error_before_voila(app_launch, tmp_path,
                                                                     capsys):
    bad = tmp_path / "case.toml"
    bad.write_text('name = "가나은행"\nlimit_of_everything = 3\n', encoding="utf-8")
    assert app_launch("--case", "case.toml") == 2
    err = capsys.readouterr().err
    assert "limit_of_everything" in err and "unknown key" in err and str(bad) in err, err
    assert "Traceback" not in err
    assert app_launch.exec is None


def test_app_with_a_case_gives_voila_its_absolute_path(app_launch, monkeypatch, capsys):
    monkeypatch.chdir(REPO / "data")
    monkeypatch.setenv("OPWB_CASE", "/somewhere/else.toml")  # --case wins over the shell's
    assert app_launch("--case", "case.toml") == 0
    case = str(REPO / "data" / "case.toml")
    assert app_launch.env["OPWB_CASE"] == case
    assert app_launch.env["JUPYTER_PATH"].split(os.pathsep)[0] == str(REPO / "share" / "jupyter")
    assert " -m voila " in " ".join(app_launch.exec[1]) + " "
    assert f"case file {case}" in capsys.readouterr().out


@pytest.mark.parametrize("shell", [None, "/banks/a/case.toml"])
def test_app_without_a_case_leaves_opwb_case_as_the_shell_has_it(app_launch, monkeypatch, shell):
    if shell is None:
        monkeypatch.delenv("OPWB_CASE", raising=False)
    else:
        monkeypatch.setenv("OPWB_CASE", shell)
    assert app_launch() == 0
    assert app_launch.env.get("OPWB_CASE") == shell


def test_app_help_names_the_case_option(capsys):
    with pytest.raises(SystemExit) as stop:
        workbench.main(["app", "--help"])
    assert stop.value.code == 0
    assert "--case PATH" in capsys.readouterr().out
    assert "--case PATH" in workbench.__doc__


def test_sigterm_while_preparing_stops_the_preparation(tmp_path):
    """``app`` prepares the case's bases in a child process before serving: SIGTERM to the
    command then ends the child too (it would otherwise go on holding the store's lock)."""
    fake = tmp_path / "python"
    pid_file = tmp_path / "child.pid"
    fake.write_text(f"#!/bin/sh\necho $$ > {pid_file}\nexec sleep 120\n", encoding="utf-8")
    fake.chmod(0o755)
    code = ("import sys; sys.path.insert(0, %r); import workbench; "
            "from pathlib import Path; workbench.prepare_bases(Path(%r), None)"
            % (str(Path(workbench.__file__).parent), str(fake)))
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while not pid_file.is_file() or not pid_file.read_text().strip():
        assert time.monotonic() < deadline, "the preparation never started"
        time.sleep(0.05)
    child = int(pid_file.read_text())
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 128 + signal.SIGTERM
    deadline = time.monotonic() + 10
    while Path(f"/proc/{child}").exists() and "zombie" not in \
            Path(f"/proc/{child}/status").read_text(errors="replace"):
        assert time.monotonic() < deadline, "the preparation outlived the command"
        time.sleep(0.05)
