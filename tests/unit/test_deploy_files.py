"""The deployment files an operator copies (Dockerfile, .dockerignore, deploy/compose.yaml, deploy/Caddyfile,
deploy/.env.example) checked against the code they run, since no container engine runs them here: the commands are
the CLI's, the environment names are settings (or a library's, found in its source), the images are pinned (Chroma's
at the lock's chromadb), every service is health-checked and started in an order that is safe, and the image is made
by the same install script CI smoke-tests."""

from __future__ import annotations

import importlib
import inspect
import json
import re
import shlex
import socket
import subprocess
import sys
import threading
import tomllib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import typer
import yaml

from coach.settings import Settings
from connectors.cli.main import app as cli_app

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
COACH_IMAGE = "learning-coach"
# names the coach's settings would own: a typo here is a setting silently not set
SETTING_PREFIXES = ("COACH_", "DATABASE_", "CHROMA_", "EMBEDDINGS_", "LLM_", "SLACK_", "MICROSOFT_", "TEAMS_",
                    "XAPI_", "ADMIN_")
# other names the coach's containers set, each with the installed module whose source reads it
LIBRARY_ENV = {
    "FORWARDED_ALLOW_IPS": ("uvicorn.config", "FORWARDED_ALLOW_IPS"),
    "ANONYMIZED_TELEMETRY": ("chromadb.config", "anonymized_telemetry"),  # pydantic settings: the field's name
    "HF_HUB_OFFLINE": ("huggingface_hub.constants", "HF_HUB_OFFLINE"),
}
# the image's own: the interpreter's, and transformers' offline switch (not installed: set in case a plugin brings it)
IMAGE_ENV = {"PATH", "PYTHONUNBUFFERED", "TRANSFORMERS_OFFLINE"}


# --- reading the files ----------------------------------------------------------------------------------------------

def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def services() -> dict[str, dict]:
    return compose()["services"]


def coach_services() -> dict[str, dict]:
    return {name: s for name, s in services().items() if s["image"].split(":")[0] == COACH_IMAGE}


def one_shot(service: dict) -> bool:
    return service.get("restart") == "no"


def interpolated(value: str) -> str:
    """What compose makes of ${NAME...} with the operator's .env: some value."""
    return re.sub(r"\$\{[^}]+\}", "x", value)


def dockerfile() -> list[tuple[int, str, str]]:
    """(stage, INSTRUCTION, arguments) with continuations joined and comments dropped; stage 0 is before the first
    FROM's stage, the last stage is the image."""
    text = re.sub(r"\\\n", " ", (REPO / "Dockerfile").read_text())
    parsed, stage = [], -1
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, arguments = line.partition(" ")
        instruction = instruction.upper()
        if instruction == "FROM":
            stage += 1
        parsed.append((stage, instruction, arguments.strip()))
    return parsed


def final_stage() -> list[tuple[str, str]]:
    parsed = dockerfile()
    last = max(stage for stage, _, _ in parsed)
    return [(instruction, arguments) for stage, instruction, arguments in parsed if stage == last]


def env_instructions(instructions: list[tuple[str, str]]) -> dict[str, str]:
    values = {}
    for instruction, arguments in instructions:
        if instruction == "ENV":
            for pair in shlex.split(arguments):
                name, _, value = pair.partition("=")
                values[name] = value
    return values


def exec_form(arguments: str) -> list[str]:
    return json.loads(arguments)


def cli_commands() -> set[str]:
    return set(typer.main.get_command(cli_app).commands)


def setting_names() -> set[str]:
    return {field.alias for field in Settings.model_fields.values() if field.alias}


def lock_version(package: str) -> str:
    lock = tomllib.loads((REPO / "uv.lock").read_text())
    return next(p["version"] for p in lock["package"] if p["name"] == package)


# --- compose: what runs -------------------------------------------------------------------------------------------

def test_the_topology_is_two_stateless_replicas_one_worker_and_the_services_they_need():
    running = {name: s for name, s in coach_services().items() if not one_shot(s)}
    serve = [name for name, s in running.items() if s["command"][0] == "serve"]
    workers = [name for name, s in running.items() if s["command"][0] == "worker"]
    assert len(serve) == 2 and workers == ["worker"], running
    for name in serve:  # nudges are the worker's alone: a replica dispatching would be a second dispatcher
        assert running[name]["environment"]["COACH_RUN_WORKER"] == "false", name
    for name, service in coach_services().items():
        env = service["environment"]
        assert env["DATABASE_URL"].startswith("postgresql+psycopg://") and "@postgres:5432/" in env["DATABASE_URL"]
        assert env["CHROMA_HOST"] == "chroma" and env["CHROMA_PORT"] == "8000", name
    assert services()["postgres"]["image"].startswith("postgres:")
    assert services()["chroma"]["image"].startswith("chromadb/chroma:")
    assert services()["lrs"]["profiles"] == ["lrs"]  # optional: only with --profile lrs


def test_every_coach_command_is_one_the_cli_has():
    commands = cli_commands()
    for name, service in coach_services().items():
        assert service["command"][0] in commands, f"{name} runs `coach {service['command'][0]}`: no such command"
    documented = re.findall(r"run --rm (?:-v \S+ )?(\w+) (\w[\w-]*)", (DEPLOY / "compose.yaml").read_text())
    assert documented, "the header shows how to load content"
    for service, command in documented:
        assert service in coach_services() and command in commands, (service, command)


def test_every_environment_name_is_a_setting_or_read_by_a_library_in_its_source():
    settings = setting_names()
    for name, service in coach_services().items():
        for variable in service["environment"]:
            if variable.startswith(SETTING_PREFIXES):
                assert variable in settings, f"{name} sets {variable}: coach/settings.py has no such setting"
            else:
                assert variable in LIBRARY_ENV, f"{name} sets {variable}: not a setting nor a known library's"
    for variable, (module, needle) in LIBRARY_ENV.items():
        assert needle in inspect.getsource(importlib.import_module(module)), f"{module} no longer reads {variable}"


def test_the_coach_services_environment_makes_valid_settings():
    for name, service in coach_services().items():
        values = {k: interpolated(str(v)) for k, v in service["environment"].items() if k in setting_names()}
        settings = Settings(_env_file=None, **values)
        assert settings.chroma_host == "chroma" and settings.database_url.get_secret_value().startswith("postgresql")
        if service["command"][0] == "serve":
            assert settings.run_worker is False


def test_every_service_is_health_checked_and_one_shots_are_waited_for_to_finish():
    all_services = services()
    for name, service in all_services.items():
        check = service.get("healthcheck")
        assert check, f"{name} has no healthcheck"
        if one_shot(service):
            assert check == {"disable": True}, f"{name} runs once: its exit code is its health"
        else:
            assert check["test"][0] in ("CMD", "CMD-SHELL") and len(check["test"]) > 1, name
            assert service.get("restart") == "unless-stopped", name
    for name, service in all_services.items():
        for target, condition in service.get("depends_on", {}).items():
            assert target in all_services, f"{name} depends on {target}: no such service"
            expected = "service_completed_successfully" if one_shot(all_services[target]) else "service_healthy"
            assert condition == {"condition": expected}, (name, target, condition)


def test_migrations_run_once_before_any_replica_or_worker_starts():
    """Two `coach serve` migrating an empty PostgreSQL database at once collide (one fails on CREATE TABLE):
    the one-shot migrates, the rest start after it."""
    all_services = services()
    migrators = [name for name, s in coach_services().items() if one_shot(s)]
    assert len(migrators) == 1, migrators
    [migrate] = migrators
    assert all_services[migrate]["command"][0] in cli_commands()
    assert set(all_services[migrate]["depends_on"]) == {"postgres", "chroma"}
    for name, service in coach_services().items():
        if name != migrate:
            assert service["depends_on"][migrate] == {"condition": "service_completed_successfully"}, name


def test_health_checks_ask_each_process_on_its_own_port():
    default_port = Settings.model_fields["port"].default
    for name, service in coach_services().items():
        if one_shot(service):
            continue
        test = service["healthcheck"]["test"]
        assert test[:3] == ["CMD", "python", "/opt/coach/healthcheck.py"], name
        port = service["environment"].get("COACH_WORKER_PORT") if service["command"][0] == "worker" else default_port
        assert test[3] == f"http://127.0.0.1:{port}/readyz", (name, test)


def test_images_are_pinned_and_chroma_is_the_locks_version():
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    for name, service in services().items():
        image, _, tag = service["image"].partition(":")
        assert tag and tag != "latest" and re.search(r"\d+\.\d+", tag), f"{name}: {service['image']} is not pinned"
        if image == COACH_IMAGE:
            assert tag == version, f"{name} runs {service['image']}, the project is {version}"
    assert services()["chroma"]["image"] == f"chromadb/chroma:{lock_version('chromadb')}"


def test_named_volumes_are_declared_and_secrets_come_from_the_env_file():
    declared = set(compose()["volumes"])
    text = (DEPLOY / "compose.yaml").read_text()
    for name, service in services().items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            assert source.startswith(".") or source in declared, f"{name} mounts undeclared volume {source}"
    for secret in ("POSTGRES_PASSWORD", "ADMIN_SECRET_KEY"):
        assert re.search(rf"\$\{{{secret}:\?", text), f"{secret} must come from deploy/.env (and be required)"
    assert not re.search(r"(PASSWORD|SECRET|TOKEN|KEY)[A-Z_]*:\s+[\"']?(?!\$\{)\w", text), "a secret in the file"
    for service in coach_services().values():
        assert service["env_file"] == ".env"


def test_the_env_example_names_only_settings_and_compose_variables():
    text = (DEPLOY / "compose.yaml").read_text() + (DEPLOY / "Caddyfile").read_text()
    names = re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", (DEPLOY / ".env.example").read_text(), re.M)
    assert {"POSTGRES_PASSWORD", "ADMIN_SECRET_KEY"} <= set(names)
    for name in names:
        assert name in setting_names() or f"${{{name}" in text, f"deploy/.env.example: {name} is used by nothing"


def test_the_proxy_balances_exactly_the_replicas_and_has_what_its_config_reads():
    caddyfile = (DEPLOY / "Caddyfile").read_text()
    [upstreams] = re.findall(r"^\s*reverse_proxy\s+([^{]+)\{", caddyfile, re.M)
    port = Settings.model_fields["port"].default
    replicas = {name for name, s in coach_services().items() if not one_shot(s) and s["command"][0] == "serve"}
    assert set(upstreams.split()) == {f"{name}:{port}" for name in replicas}
    assert "health_uri /readyz" in caddyfile
    proxy = services()["proxy"]
    assert set(proxy["depends_on"]) == replicas
    for placeholder in re.findall(r"\{\$([A-Z_]+)", caddyfile):
        assert placeholder in proxy["environment"], f"the Caddyfile reads {placeholder}; the proxy is not given it"
    assert "./Caddyfile:/etc/caddy/Caddyfile:ro" in proxy["volumes"]
    health_port = re.search(r"127\.0\.0\.1:(\d+)/healthz", " ".join(proxy["healthcheck"]["test"])).group(1)
    assert re.search(rf"^:{health_port} \{{\s*respond /healthz 200", caddyfile, re.M)


# --- Dockerfile -----------------------------------------------------------------------------------------------------

def test_the_image_is_made_by_the_install_script_ci_smoke_tests():
    ci = (REPO / ".ci" / "run").read_text()
    script = ".ci/install-runtime.sh"
    assert re.search(rf"^UV=\S+ bash {re.escape(script)} \"\$runtime/venv\" \"\$runtime\"$", ci, re.M)
    assert "uv pip install" not in ci.replace(script, "")  # no second install command to drift from it
    assert re.search(r"^\"\$runtime/venv/bin/python\" \.ci/smoke\.py", ci, re.M)
    build = [(instruction, arguments) for stage, instruction, arguments in dockerfile() if stage == 0]
    runs = [arguments for instruction, arguments in build if instruction == "RUN" and script in arguments]
    assert len(runs) == 1 and re.search(rf"bash {re.escape(script)} /opt/coach ", runs[0]), runs
    assert ("COPY", f"{script} .ci/") in build
    makefile = re.search(r"^UV_VERSION \?= (\S+)", (REPO / "Makefile").read_text(), re.M).group(1)
    assert ("ARG", f"UV_VERSION={makefile}") in build
    # the image holds the venv made at the same path (its scripts name it)
    assert ("COPY", "--from=build /opt/coach /opt/coach") in final_stage()
    text = (REPO / script).read_text()
    for step in ("uv\" build --quiet --wheel", "export --quiet --frozen --no-emit-project --no-hashes",
                 "pip install --quiet --python \"$venv/bin/python\" -c \"$out/constraints.txt\" \"$out\"/dist/*.whl"):
        assert step in text


def test_the_image_runs_coach_serve_as_a_non_root_user_offline():
    final = final_stage()
    users = [arguments for instruction, arguments in final if instruction == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0"), users
    env = env_instructions(final)
    assert env["HF_HUB_OFFLINE"] == "1" and env["TRANSFORMERS_OFFLINE"] == "1"
    assert env["COACH_DATA_DIR"] == "/data" and env["COACH_HOST"] == "0.0.0.0"
    assert env["PATH"].startswith("/opt/coach/bin:")
    for name in env:
        if name.startswith(SETTING_PREFIXES):
            assert name in setting_names(), f"the Dockerfile sets {name}: no such setting"
        else:
            assert name in LIBRARY_ENV or name in IMAGE_ENV, f"the Dockerfile sets {name}: read by nothing known"
    instructions = dict(final)
    assert exec_form(instructions["ENTRYPOINT"]) == ["coach"]
    assert "coach" in tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert exec_form(instructions["CMD"]) == ["serve"] and "serve" in cli_commands()
    assert instructions["VOLUME"] == "/data"
    exposed = set(instructions["EXPOSE"].split())
    assert {str(Settings.model_fields[f].default) for f in ("port", "worker_port")} <= exposed
    assert instructions["HEALTHCHECK"].endswith('CMD ["python", "/opt/coach/healthcheck.py"]')
    # the models load with no network, as the image's user, while it is built
    assert any(i == "RUN" and a.startswith("--network=none ") and "E5Embedder" in a for i, a in final)


def test_the_images_python_is_a_pinned_311():
    [arg] = [a for stage, i, a in dockerfile() if i == "ARG" and a.startswith("PYTHON_IMAGE=")]
    assert re.fullmatch(r"PYTHON_IMAGE=python:3\.11\.\d+-slim-\w+", arg), arg
    assert [a for _, i, a in dockerfile() if i == "FROM"] == ["${PYTHON_IMAGE} AS build", "${PYTHON_IMAGE}"]


def test_the_build_context_lets_in_what_the_image_is_built_from():
    allowed = {line[1:] for line in (REPO / ".dockerignore").read_text().splitlines() if line.startswith("!")}
    assert "*" in (REPO / ".dockerignore").read_text().splitlines()  # an allowlist: nothing else gets in
    copied = set()
    for stage, instruction, arguments in dockerfile():
        if instruction == "COPY" and not arguments.startswith("--from"):
            copied |= set(arguments.split()[:-1])
    assert copied <= allowed, copied - allowed
    packages = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    for package in {p.rstrip("*") for p in packages}:
        assert package in copied, f"pyproject.toml builds {package}: the Dockerfile does not copy it"
    readme = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["readme"]
    assert {"pyproject.toml", "uv.lock", readme} <= copied


# --- the image's health check ---------------------------------------------------------------------------------------

class _Status(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        code = 200 if self.path == "/readyz" else 503
        self.send_response(code)
        self.end_headers()
        self.wfile.write(b'{"status": "ok"}' if code == 200 else b'{"database": "unreachable"}')

    def log_message(self, *args):
        pass


@pytest.fixture
def status_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Status)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def healthcheck(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(DEPLOY / "healthcheck.py"), *args], capture_output=True, text=True,
                          timeout=30, env=env)


def test_the_health_check_passes_on_2xx_and_fails_on_anything_else(status_server):
    assert healthcheck(f"{status_server}/readyz").returncode == 0
    unready = healthcheck(f"{status_server}/not-ready")
    assert unready.returncode == 1 and "503" in unready.stdout and "unreachable" in unready.stdout
    port = status_server.rsplit(":", 1)[1]
    assert healthcheck(env={"COACH_PORT": port}).returncode == 0  # the default: /readyz on COACH_PORT
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    assert healthcheck(f"http://127.0.0.1:{closed}/readyz").returncode == 1
