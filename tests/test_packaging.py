"""flask-bastion ships on its own: its wheel holds no newsroom code, and it works installed alone.

Built with uv from the repository's pyproject.toml (an sdist, then the wheel from that sdist),
installed into a fresh virtualenv with the versions of requirements.lock, and exercised there
by the minimal example app: outside this suite's environment, where newsroom is importable
and would hide any import of it from the library.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UV_ENV = {"UV_SYSTEM_CERTS": "1", "UV_PYTHON_DOWNLOADS": "never", "UV_NO_PROGRESS": "1"}

pytestmark = pytest.mark.packaging

# Run inside the fresh virtualenv: the example app signs up a user and greets them by token.
SMOKE = """
import secrets, sys
from minimal_app import create_app

app = create_app({
    "SECRET_KEY": secrets.token_urlsafe(48), "BASTION_ENV": "testing",
    "BASTION_DATABASE_URL": "sqlite:///" + sys.argv[1],
    "BASTION_ARGON2_TIME_COST": 1, "BASTION_ARGON2_MEMORY_COST": 1024,
    "BASTION_ARGON2_PARALLELISM": 1,
    # Signed in at once; the confirmation mail is still rendered from the packaged templates.
    "BASTION_EMAIL_CONFIRMATION": "optional",
})
browser, client = app.test_client(), app.test_client()
browser.get("/api/auth/session")
csrf = browser.get_cookie("XSRF-TOKEN").value
account = {"email": "ada@example.com", "username": "ada", "password": "a-long-passphrase"}
registered = browser.post("/api/auth/register", json=account, headers={"X-XSRF-TOKEN": csrf})
assert registered.status_code == 201, registered.json
tokens = client.post("/api/token", json={"identity": "ada", "password": account["password"]})
bearer = {"Authorization": "Bearer " + tokens.json["access_token"]}
hello = client.get("/api/hello", headers=bearer)
print(hello.status_code, hello.json)
"""


def uv(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run uv as scripts/bootstrap does, with no trace of this suite's environment."""
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    uv_binary = shutil.which("uv")
    command = [uv_binary] if uv_binary else ["python3", "-m", "uv"]
    result = subprocess.run(
        [*command, *args], cwd=cwd, env={**env, **UV_ENV}, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return result


def run_python(venv: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    return subprocess.run(
        [str(venv / "bin" / "python"), *args], cwd=cwd, env=env, capture_output=True, text=True
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The library's sdist and wheel, built from the working tree."""
    out = tmp_path_factory.mktemp("dist")
    uv("build", "--quiet", "--out-dir", str(out), str(ROOT), cwd=out)
    return out


@pytest.fixture(scope="module")
def wheel(built: Path) -> Path:
    (path,) = built.glob("flask_bastion-*.whl")
    return path


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv holding the library's wheel and its dependencies, nothing else."""
    where = tmp_path_factory.mktemp("venv")
    venv = where / "venv"
    uv("venv", "--quiet", "--python", sys.executable, str(venv), cwd=where)
    uv(
        "pip",
        "install",
        "--quiet",
        "--python",
        str(venv / "bin" / "python"),
        "--constraint",
        str(ROOT / "requirements.lock"),
        str(wheel),
        cwd=where,
    )
    return venv


def test_the_wheel_holds_the_library_and_nothing_of_newsroom(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (metadata_name,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        metadata = Parser().parsestr(archive.read(metadata_name).decode())
    top_level = {name.split("/")[0] for name in names}
    assert top_level == {"flask_bastion", metadata_name.split("/")[0]}
    assert not [name for name in names if "newsroom" in name]
    for shipped in (
        "flask_bastion/py.typed",
        "flask_bastion/static/swagger-init.js",
        "flask_bastion/migrations/env.py",
        "flask_bastion/migrations/script.py.mako",
        "flask_bastion/migrations/versions/bastion_0001_accounts.py",
        "flask_bastion/migrations/versions/bastion_0002_tokens.py",
        "flask_bastion/migrations/versions/bastion_0003_outbox.py",
        "flask_bastion/templates/bastion/dev_mail.html",
        "flask_bastion/templates/bastion/mail/layout.html",
        "flask_bastion/templates/bastion/mail/test_message.subject.txt",
        "flask_bastion/templates/bastion/mail/test_message.txt",
        "flask_bastion/templates/bastion/mail/test_message.html",
    ):
        assert shipped in names
    assert metadata["Name"] == "flask-bastion"
    requires = metadata.get_all("Requires-Dist") or []
    assert requires
    assert not [r for r in requires if r.startswith(("newsroom", "granian"))]
    # The database and Redis drivers are extras, for apps that use those services.
    drivers = [r for r in requires if r.startswith(("psycopg", "redis"))]
    assert sorted(drivers) == [
        "psycopg[binary]>=3.2; extra == 'postgres'",
        "redis>=5.0; extra == 'redis'",
    ]


def test_the_sdist_holds_the_library_and_nothing_of_newsroom(built: Path) -> None:
    (sdist,) = built.glob("flask_bastion-*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = [name.split("/", 1)[1] for name in archive.getnames() if "/" in name]
    assert not [name for name in names if "newsroom" in name or name.startswith(("app/", "web/"))]
    assert "src/flask_bastion/migrations/versions/bastion_0001_accounts.py" in names


def test_the_library_installed_alone_imports_and_brings_no_newsroom(
    venv: Path, tmp_path: Path
) -> None:
    # Every public name, not only the package: its names are loaded on first use.
    every_name = "import flask_bastion as b; [getattr(b, name) for name in b.__all__]"
    imported = run_python(venv, "-c", every_name, cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr
    missing = run_python(venv, "-c", "import newsroom", cwd=tmp_path)
    assert missing.returncode == 1
    assert "ModuleNotFoundError: No module named 'newsroom'" in missing.stderr
    listed = run_python(
        venv,
        "-c",
        "import importlib.metadata as m; print('\\n'.join(d.metadata['Name'].lower()"
        " for d in m.distributions()))",
        cwd=tmp_path,
    )
    installed = set(listed.stdout.split())
    assert "flask-bastion" in installed
    assert installed.isdisjoint({"newsroom", "granian", "psycopg", "psycopg-binary", "redis"})


def test_the_minimal_example_runs_on_the_library_alone(venv: Path, tmp_path: Path) -> None:
    shutil.copy(ROOT / "examples" / "minimal" / "minimal_app.py", tmp_path)
    result = run_python(venv, "-c", SMOKE, str(tmp_path / "minimal.db"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "200 {'hello': 'ada'}"
