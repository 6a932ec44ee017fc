#!/usr/bin/env python3
"""opwb workbench launcher: set-up-free commands for a machine that has only ``python3``.

    python3 workbench.py app [--case PATH] [--port N] [--no-browser] [--notebook PATH]
    python3 workbench.py test [pytest arguments ...]

Both commands first make sure the repository's own virtual environment ``.venv`` exists and
holds ``opwb`` (editable) with its dependencies and test extras. It is created on the first
run and re-installed whenever ``pyproject.toml`` changes (a hash of it is kept in
``.venv/opwb-install.stamp``); when it is current nothing is printed.

``app`` then serves the app notebook (``notebooks/03_bbb_scenarios.ipynb`` when it exists,
else the highest-numbered ``notebooks/NN_*.ipynb``) with Voila on 127.0.0.1 only:
``POOL_SIZE`` kernels have executed the notebook before anyone asks for the page, each page
gets one of them (a new one is prepared in its place); a page's kernel stops shortly after the
page goes away (``opwb.app.serving.PageKernelManager``) and kernels no page ever connected to
are culled after ``CULL_IDLE_TIMEOUT`` seconds. The page uses the template in
``share/jupyter/voila/templates/opwb`` (Korean title and loading text, nothing fetched from
outside 127.0.0.1). Before starting Voila it compiles opwb's bytecode, so kernels do not
recompile it when ``PYTHONDONTWRITEBYTECODE`` is set. The launcher replaces itself with the
Voila process (``exec``), so SIGTERM or Ctrl+C reach Voila directly and it shuts its kernels
down.

``app --case PATH`` serves a bank's own case file (TOML, see ``opwb.load_case``) instead of
the bundled case: the path is made absolute (relative to the current directory), the file is
read once with ``opwb.load_case`` by the environment's Python before Voila starts (a missing
or invalid case stops the command with exit status 2 and the case's own message), and
``OPWB_CASE=<absolute path>`` is put in Voila's environment, which every kernel inherits;
the notebook's ``opwb.open_case(case_path)`` then opens it. Without ``--case`` the
environment is passed on unchanged, so an ``OPWB_CASE`` set in the shell works too (an
absolute path is safest: kernels run in the notebook's folder).

``test`` first makes sure the Debian packages the tests drive are installed (``chromium``,
``fonts-noto-cjk``, ``poppler-utils``, ``postgresql``), before it even looks at ``.venv``.
Missing ones are installed with ``apt-get install -y`` when running as root, or through
``sudo -n`` when passwordless sudo allows it; otherwise it stops at once, exit status 1,
printing the one command to run. It then runs pytest on the whole suite with the
environment's Python; the exit code is pytest's.

Two environment variables exist for the tests of this file only: ``WORKBENCH_SYSTEM_ROOT``
(a directory standing in for ``/`` when looking for the packages' files and apt's package
lists) and ``WORKBENCH_EUID`` (the effective user id to assume instead of the real one).

Standard library only; it must run with Debian's system ``python3``.
"""
from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP_NAME = "opwb-install.stamp"
APP_NOTEBOOK = "03_bbb_scenarios.ipynb"
DEFAULT_PORT = 8866
MIN_PYTHON = (3, 11)
#: Kernels that have executed the app notebook before anyone asks: five people opening the app
#: at once each get one at once. Each holds ~0.45 GB of its own (the scenario bases are shared,
#: memory-mapped); they are prepared one at a time, leaving a core to the pages in use.
POOL_SIZE = 5
#: Seconds before a used pool kernel is replaced (lets a burst of page loads finish first).
POOL_FILL_DELAY = 2
#: A page's kernel stops this many seconds after the page's last connection closes (at once when
#: the page's own shutdown request on leaving arrives).
PAGE_CLOSE_GRACE = 10
#: Safety net: kernels idle this long with no page connected are stopped (checked every
#: CULL_INTERVAL s; a kernel handed to a page that never connects goes after about a minute).
CULL_IDLE_TIMEOUT = 600
CULL_INTERVAL = 30
APP_TEMPLATE = "opwb"  # share/jupyter/voila/templates/opwb
KERNEL_MANAGER = "opwb.app.serving.PageKernelManager"
PIP_JSON_URL = "https://pypi.org/pypi/pip/json"
APT_HINT = "sudo apt-get install python3-venv"
#: Debian packages the tests need, each with the files that show it is installed (a ``*`` in a
#: path stands for any one folder name: PostgreSQL's major version, which Debian releases change).
SYSTEM_PACKAGES = (
    # the headless browser of the browser tests and of the deck's PDF (never downloaded)
    ("chromium", ("/usr/bin/chromium",)),
    # Korean glyphs in the browser's pages and screenshots
    ("fonts-noto-cjk", ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",)),
    # pdfinfo, pdffonts, pdftotext, pdftoppm for checking exported slides and PDFs
    ("poppler-utils", ("/usr/bin/pdftotext", "/usr/bin/pdfinfo", "/usr/bin/pdffonts",
                       "/usr/bin/pdftoppm")),
    # the PostgreSQL server the run-store tests start for their session (tests/runs)
    ("postgresql", ("/usr/lib/postgresql/*/bin/initdb", "/usr/lib/postgresql/*/bin/pg_ctl")),
)
APT_LISTS = "/var/lib/apt/lists"
APT_LOCK_TIMEOUT = 300  # seconds to wait for dpkg's lock (unattended-upgrades on a new machine)


#: Environment variable naming the case file every kernel opens (``opwb.data.case.CASE_ENV``;
#: repeated here because this file must not import opwb).
CASE_ENV = "OPWB_CASE"
#: Run by the environment's Python with the case file as its argument: exit status 2 and the
#: ``DataError`` message on stderr when ``opwb.load_case`` rejects the file.
CASE_CHECK = """\
import sys
from opwb import DataError, load_case
try:
    load_case(sys.argv[1])
except DataError as exc:
    print(exc, file=sys.stderr)
    sys.exit(2)
"""


class WorkbenchError(RuntimeError):
    """A set-up problem with a message meant for the user.

    Attributes
    ----------
    status : int
        The launcher's exit status for this problem (1).
    """

    status = 1


class CaseError(WorkbenchError):
    """The case file given with ``app --case`` is missing or invalid (exit status 2)."""

    status = 2


def say(message: str) -> None:
    print("workbench: " + message, flush=True)


# ---------------------------------------------------------------------------------------------
# Which notebook the app serves
# ---------------------------------------------------------------------------------------------
def app_notebook(root: Path = ROOT) -> Path:
    """Return the notebook the app serves.

    ``notebooks/03_bbb_scenarios.ipynb`` when it exists, else the highest-numbered
    ``notebooks/NN_*.ipynb``.

    Raises
    ------
    WorkbenchError
        When ``notebooks/`` holds no numbered notebook.
    """
    folder = Path(root) / "notebooks"
    preferred = folder / APP_NOTEBOOK
    if preferred.is_file():
        return preferred
    numbered = []
    for path in folder.glob("*.ipynb"):
        match = re.match(r"^(\d+)_.+\.ipynb$", path.name)
        if match:
            numbered.append((int(match.group(1)), path.name, path))
    if not numbered:
        raise WorkbenchError(f"no numbered notebook (NN_name.ipynb) found in {folder}")
    return max(numbered)[2]


# ---------------------------------------------------------------------------------------------
# The virtual environment
# ---------------------------------------------------------------------------------------------
def venv_python(venv: Path = VENV) -> Path:
    return Path(venv) / "bin" / "python"


def install_stamp(root: Path = ROOT) -> str:
    """The stamp a current environment carries: a hash of ``pyproject.toml``."""
    digest = hashlib.sha256((Path(root) / "pyproject.toml").read_bytes()).hexdigest()
    return f"pyproject-sha256={digest}\n"


def venv_is_current(root: Path = ROOT, venv: Path = VENV) -> bool:
    """True when the environment exists, its Python runs from disk and its stamp matches."""
    stamp = Path(venv) / STAMP_NAME
    if not venv_python(venv).exists() or not stamp.is_file():
        return False
    return stamp.read_text(encoding="utf-8") == install_stamp(root)


def _run(cmd: list, quiet: bool = False, **kwargs) -> None:
    """Run a command; with ``quiet`` its output is shown only when it fails."""
    if quiet:
        kwargs.update(stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    result = subprocess.run([str(c) for c in cmd], **kwargs)
    if result.returncode != 0:
        if quiet:
            print(result.stdout, file=sys.stderr)
        raise WorkbenchError(f"command failed (exit {result.returncode}): {' '.join(map(str, cmd))}")


def _fetch(url: str, timeout: float = 60) -> tuple:
    """Return (body, final URL after redirects)."""
    request = urllib.request.Request(url, headers={"User-Agent": "opwb-workbench"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.read(), response.geturl()


def bootstrap_pip(python: Path, workdir: Path) -> None:
    """Install pip into an environment created ``--without-pip``.

    Downloads the current pip wheel named by PyPI's JSON API, checks its sha256 and runs pip
    from the wheel itself to install that wheel (pip's documented bootstrap).
    """
    try:
        body, json_url = _fetch(PIP_JSON_URL)
        wheels = [u for u in json.loads(body)["urls"]
                  if u["filename"].endswith("-py3-none-any.whl")]
        if not wheels:
            raise WorkbenchError(f"{PIP_JSON_URL} lists no pip wheel")
        wheel = wheels[0]
        # Mirrors may answer with URLs relative to the JSON document.
        data, _ = _fetch(urllib.parse.urljoin(json_url, wheel["url"]), timeout=120)
    except (OSError, ValueError, KeyError) as exc:
        raise WorkbenchError(
            f"could not download pip from PyPI ({exc}); install the venv module instead: "
            f"{APT_HINT}") from exc
    if hashlib.sha256(data).hexdigest() != wheel["digests"]["sha256"]:
        raise WorkbenchError(f"sha256 mismatch for {wheel['url']}")
    path = Path(workdir) / wheel["filename"]
    path.write_bytes(data)
    _run([python, f"{path}/pip", "install", "--quiet", "--no-index",
          "--disable-pip-version-check", str(path)], quiet=True)


def create_venv(venv: Path = VENV, python: str = sys.executable) -> None:
    """Create the environment with ``venv``; without ``ensurepip`` fall back to a pip wheel."""
    if importlib.util.find_spec("ensurepip") is not None:
        _run([python, "-m", "venv", "--clear", venv])
        return
    say("this Python has no ensurepip (Debian without python3-venv): "
        "creating the environment without pip and fetching pip from PyPI")
    try:
        _run([python, "-m", "venv", "--clear", "--without-pip", venv])
    except WorkbenchError as exc:
        raise WorkbenchError(f"{exc}\nInstall Python's venv module first: {APT_HINT}") from exc
    with tempfile.TemporaryDirectory() as tmp:
        bootstrap_pip(venv_python(venv), Path(tmp))


def install(root: Path = ROOT, venv: Path = VENV) -> None:
    """pip-install ``opwb`` editable with its test extras, then write the stamp."""
    cmd = [venv_python(venv), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
           "--editable", f"{root}[test]"]
    if os.environ.get("CI"):
        cmd[4:4] = ["--progress-bar", "off"]
    _run(cmd, quiet=True, cwd=root)
    (Path(venv) / STAMP_NAME).write_text(install_stamp(root), encoding="utf-8")


def ensure_venv(root: Path = ROOT, venv: Path = VENV) -> Path:
    """Make ``.venv`` current (silent when it already is); return its Python."""
    if venv_is_current(root, venv):
        return venv_python(venv)
    if sys.version_info < MIN_PYTHON:
        raise WorkbenchError(
            "opwb needs Python >= %d.%d, this is %s" % (*MIN_PYTHON, sys.version.split()[0]))
    import fcntl  # Unix only; imported here so `app_notebook` stays importable anywhere

    # Another launcher may be installing right now: serialise on a lock of pyproject.toml.
    with open(Path(root) / "pyproject.toml", "rb") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not venv_is_current(root, venv):
            if not venv_python(venv).exists():
                say(f"creating the virtual environment {venv} (first run)")
                create_venv(venv)
            say("installing opwb and its dependencies into .venv (about a minute) ...")
            install(root, venv)
            say("environment ready")
    return venv_python(venv)


# ---------------------------------------------------------------------------------------------
# Debian packages the tests need
# ---------------------------------------------------------------------------------------------
def _under(root: Path, path: str) -> Path:
    return Path(root) / path.lstrip("/")


def _present(root: Path, path: str) -> bool:
    """True when ``path`` (under ``root``; a ``*`` matches any one folder name) exists."""
    if "*" in path:
        return any(Path(root).glob(path.lstrip("/")))
    return _under(root, path).exists()


def missing_system_packages(root: Path = Path("/")) -> list:
    """The packages of ``SYSTEM_PACKAGES`` whose files are not all present under ``root``."""
    return [name for name, files in SYSTEM_PACKAGES
            if not all(_present(root, f) for f in files)]


def venv_package_wanted(venv: Path = VENV) -> bool:
    """True when ``python3-venv`` would help: ``.venv`` is still to be created and this is
    Debian's Python without ``ensurepip``. Never required (``create_venv`` can bootstrap pip
    from PyPI instead), so it is installed only along with, or as cheaply as, the others."""
    if venv_python(venv).exists() or importlib.util.find_spec("ensurepip") is not None:
        return False
    if not shutil.which("dpkg"):
        return False
    executable = os.path.realpath(sys.executable)
    return subprocess.run(["dpkg", "-S", executable], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode == 0


def apt_lists_empty(root: Path = Path("/")) -> bool:
    """True when apt has no package lists yet (a new container): ``apt-get update`` first."""
    return not any(_under(root, APT_LISTS).glob("*_Packages*"))


def manual_install_command(packages: list, root: Path = Path("/"), euid: int = 1000) -> str:
    """The one line to run when this process cannot install ``packages`` itself."""
    sudo = "" if euid == 0 else "sudo "
    install = f"{sudo}apt-get install -y " + " ".join(packages)
    return f"{sudo}apt-get update && {install}" if apt_lists_empty(root) else install


def _sudo_works() -> bool:
    """True when ``sudo -n`` may run apt-get without asking for a password."""
    if not shutil.which("sudo"):
        return False
    try:
        return subprocess.run(["sudo", "-n", "apt-get", "--version"], stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def apt_prefix(euid: int) -> list | None:
    """How to run apt-get here: ``[]`` as root, ``["sudo", "-n"]`` with passwordless sudo,
    ``None`` when packages cannot be installed by this process."""
    if not shutil.which("apt-get"):
        return None
    if euid == 0:
        return []
    if _sudo_works():
        return ["sudo", "-n"]
    return None


def _apt(prefix: list, args: list) -> None:
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")  # sudo resets it; -y suffices
    cmd = [*prefix, "apt-get", *args]
    result = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0:
        raise WorkbenchError(f"command failed (exit {result.returncode}): {' '.join(cmd)}\n"
                             + result.stdout[-3000:])


def ensure_system_packages(root: Path | None = None, euid: int | None = None,
                           venv: Path = VENV) -> None:
    """Install the Debian packages the tests need when some are missing (silent otherwise).

    As root apt-get runs directly, otherwise through ``sudo -n`` when that works; ``apt-get
    update`` runs first when apt has no package lists. When neither is possible, raise
    ``WorkbenchError`` with the exact command for the user, before anything slow happens.
    ``root`` and ``euid`` default to ``$WORKBENCH_SYSTEM_ROOT`` (else ``/``) and
    ``$WORKBENCH_EUID`` (else the real effective uid); the tests point them at a fake system.
    """
    if root is None:
        root = Path(os.environ.get("WORKBENCH_SYSTEM_ROOT") or "/")
    if euid is None:
        euid = int(os.environ.get("WORKBENCH_EUID") or os.geteuid())
    missing = missing_system_packages(root)
    optional = ["python3-venv"] if venv_package_wanted(venv) else []
    if not missing and not optional:
        return
    prefix = apt_prefix(euid)
    if prefix is None:
        if not missing:
            return  # python3-venv only helps; create_venv bootstraps pip without it
        raise WorkbenchError(
            "the tests need Debian packages that are missing here: " + ", ".join(missing)
            + ".\nInstall them with this command, then run the tests again:\n    "
            + manual_install_command(missing, root, euid))
    packages = missing + optional
    how = "apt-get" if not prefix else "sudo -n apt-get"
    say(f"installing Debian packages {' '.join(packages)} with {how} (about a minute) ...")
    updated = False
    if apt_lists_empty(root):
        _apt(prefix, ["update"])
        updated = True
    install = ["-o", f"DPkg::Lock::Timeout={APT_LOCK_TIMEOUT}", "install", "-y", *packages]
    try:
        _apt(prefix, install)
    except WorkbenchError:
        if updated:
            raise
        _apt(prefix, ["update"])  # stale package lists: the archive has moved on
        _apt(prefix, install)
    importlib.invalidate_caches()  # a fresh python3-venv brings ensurepip
    still = missing_system_packages(root)
    if still:
        raise WorkbenchError(f"apt-get installed {' '.join(packages)}, yet files of "
                             f"{', '.join(still)} are still missing: "
                             + ", ".join(f for n, files in SYSTEM_PACKAGES if n in still
                                         for f in files if not _present(root, f)))
    say("Debian packages ready")


# ---------------------------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------------------------
def voila_command(python: Path, notebook: Path, port: int, open_browser: bool) -> list:
    """The Voila command line the app runs: bound to 127.0.0.1, the opwb page template, a pool
    of ``POOL_SIZE`` pre-executed kernels, page kernels stopped when their page goes away,
    idle-kernel culling as a safety net."""
    cmd = [str(python), "-m", "voila", str(notebook),
           f"--port={port}", "--Voila.ip=127.0.0.1", "--Voila.port_retries=0",
           f"--template={APP_TEMPLATE}", "--HTMLExporter.language_code=ko",
           "--preheat_kernel=True", f"--pool_size={POOL_SIZE}",
           f"--VoilaKernelManager.fill_delay={POOL_FILL_DELAY}",
           f"--VoilaConfiguration.multi_kernel_manager_class={KERNEL_MANAGER}",
           f"--PageKernelManager.page_close_grace={PAGE_CLOSE_GRACE}",
           f"--MappingKernelManager.cull_idle_timeout={CULL_IDLE_TIMEOUT}",
           f"--MappingKernelManager.cull_interval={CULL_INTERVAL}"]
    if not open_browser:
        cmd.insert(4, "--no-browser")
    return cmd


def app_environment(environ: dict | None = None, root: Path = ROOT,
                    case: Path | None = None) -> dict:
    """The environment Voila (and through it every kernel) runs with.

    Parameters
    ----------
    environ : dict, optional
        The environment to start from; default ``os.environ``. It is copied, not changed.
    root : Path, optional
        The repository; its ``share/jupyter`` goes first on ``JUPYTER_PATH``, where Voila
        finds the page template.
    case : Path, optional
        The case file of ``app --case``: ``OPWB_CASE`` is set to its absolute path. Without
        it ``OPWB_CASE`` is left as ``environ`` has it (set or not).

    Returns
    -------
    dict
        The new environment.
    """
    env = dict(os.environ if environ is None else environ)
    share = str(Path(root) / "share" / "jupyter")
    rest = [p for p in env.get("JUPYTER_PATH", "").split(os.pathsep) if p and p != share]
    env["JUPYTER_PATH"] = os.pathsep.join([share, *rest])
    if case is not None:
        env[CASE_ENV] = str(Path(case).resolve())
    return env


def case_file(path: str | os.PathLike) -> Path:
    """The absolute path of the case file given with ``--case`` (relative to the current
    directory).

    Raises
    ------
    CaseError
        When there is no such file (a one-line message naming the absolute path).
    """
    case = Path(path).expanduser().resolve()
    if not case.is_file():
        raise CaseError(f"case file not found: {case}")
    return case


def prepare_bases(python: Path, case: Path | None) -> None:
    """Build the case's scenario bases and its predictive model (``python -m opwb.decision
    prepare``) into opwb's store before serving (or find them there: then it takes seconds),
    so that the app's kernels load them instead of each fitting and simulating. The first
    time takes a few minutes.

    Raises
    ------
    CaseError
        When the case's data cannot be used (its message), before Voila starts.
    """
    say("preparing the scenario bases (stored in the user's cache; the first time for a "
        "case may take a few minutes) ...")
    proc = subprocess.Popen([str(python), "-m", "opwb.decision", "prepare"],
                            cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=app_environment(case=case))

    def stop(signum, _frame):
        # SIGTERM while preparing stops the preparation too (it would otherwise go on,
        # holding the store's lock, after the command has ended)
        proc.terminate()
        proc.wait()
        sys.exit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        out, err = proc.communicate()
    except BaseException:                    # Ctrl+C: the preparation ends with the command
        proc.terminate()
        proc.wait()
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)
    if proc.returncode != 0:
        raise CaseError(((err or out).strip().splitlines() or ["preparation failed"])[-1])
    say(out.strip())


def check_case(python: Path, case: Path) -> None:
    """Read the case file once with ``opwb.load_case`` in the environment's Python.

    Parameters
    ----------
    python : Path
        The Python of ``.venv`` (holds opwb).
    case : Path
        The case file (absolute).

    Raises
    ------
    CaseError
        With ``opwb.DataError``'s message when the case is invalid, or with the output of
        the check when it failed in another way.
    """
    result = subprocess.run([str(python), "-c", CASE_CHECK, str(case)], cwd=ROOT,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    if result.returncode == 0:
        return
    output = (result.stderr or result.stdout).strip()
    if result.returncode == 2:
        raise CaseError(output)
    raise CaseError(f"could not check the case file {case} (exit {result.returncode}):\n"
                    + output[-3000:])


def compile_bytecode(python: Path, root: Path = ROOT) -> None:
    """Compile opwb's modules to bytecode (quiet, best effort: a read-only checkout only
    means each kernel compiles them itself)."""
    subprocess.run([str(python), "-m", "compileall", "-q", str(Path(root) / "opwb")],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def cmd_app(args: argparse.Namespace) -> None:
    notebook = Path(args.notebook).resolve() if args.notebook else app_notebook()
    if not notebook.is_file():
        raise WorkbenchError(f"notebook not found: {notebook}")
    case = case_file(args.case) if args.case else None  # before .venv: a typo stops at once
    if not port_is_free(args.port):
        raise WorkbenchError(f"port {args.port} on 127.0.0.1 is in use; choose another with --port")
    python = ensure_venv()
    try:
        shown = notebook.relative_to(ROOT)
    except ValueError:
        shown = notebook
    if case is not None:
        check_case(python, case)  # a bad case fails here with its message, not in a kernel
    compile_bytecode(python)
    if case is not None:
        say(f"case file {case}")
    prepare_bases(python, case)
    say(f"serving {shown} at http://127.0.0.1:{args.port}/ (stop with Ctrl+C)")
    os.chdir(ROOT)  # serve from the repository root; kernels run in the notebook's folder
    os.execve(str(python), voila_command(python, notebook, args.port, not args.no_browser),
              app_environment(case=case))


def cmd_test(pytest_args: list) -> None:
    ensure_system_packages()  # first: a missing package stops the command in its first second
    python = ensure_venv()
    os.chdir(ROOT)
    sys.stdout.flush()
    os.execv(str(python), [str(python), "-m", "pytest", *pytest_args])


def main(argv: list | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(
        prog="python3 workbench.py",
        description="opwb workbench: serve the app or run the tests "
                    "(the first run creates .venv and installs opwb into it)")
    sub = parser.add_subparsers(dest="command", required=True)
    app = sub.add_parser("app", help="serve the workbench app with Voila on 127.0.0.1")
    app.add_argument("--case", metavar="PATH",
                     help="serve this case file (TOML; see opwb.load_case) instead of the "
                          "bundled case; it is checked before Voila starts and handed to the "
                          f"kernels as {CASE_ENV}")
    app.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    app.add_argument("--no-browser", action="store_true", help="do not open a web browser")
    app.add_argument("--notebook", help="serve this notebook instead of the default app notebook")
    sub.add_parser("test", help="run the whole test suite (extra arguments go to pytest)",
                   add_help=False)
    if argv[:1] == ["test"]:  # everything after `test` belongs to pytest, including -h
        args, rest = argparse.Namespace(command="test"), argv[1:]
    else:
        args, rest = parser.parse_args(argv), []
    try:
        if args.command == "app":
            cmd_app(args)
        else:
            cmd_test(rest)
    except WorkbenchError as exc:
        print(f"workbench: error: {exc}", file=sys.stderr)
        return exc.status
    return 0  # not reached: both commands exec


if __name__ == "__main__":
    sys.exit(main())
