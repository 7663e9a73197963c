"""docker-compose.yml and the Dockerfile, checked by reading them (CI has no Docker engine):
the five services, their healthchecks and start order, commands that name real modules, and
no secret committed."""

import importlib
import re
from pathlib import Path

import pytest
import yaml

BASE_DIR = Path(__file__).resolve().parent.parent
SERVICES = {"web", "worker", "beat", "postgres", "redis"}
APP_SERVICES = {"web", "worker", "beat"}
SECRET_NAMES = re.compile(r"SECRET|PASSWORD|TOKEN|API_KEY|ENCRYPTION_KEY", re.IGNORECASE)
# A required compose variable: `${NAME:?message}`; compose refuses to start without it.
REQUIRED_VARIABLE = re.compile(r"\$\{[A-Z_]+:\?[^}]+\}")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def command_of(service: dict) -> list[str]:
    command = service["command"]
    return command.split() if isinstance(command, str) else command


def test_the_stack_has_the_five_services(services):
    assert set(services) >= SERVICES


# Ids are prefixed: a bare "postgres" id would read as the `postgres` marker in conftest.
@pytest.mark.parametrize("name", sorted(SERVICES), ids=lambda name: f"service-{name}")
def test_every_service_has_a_healthcheck(services, name):
    healthcheck = services[name]["healthcheck"]
    assert healthcheck["test"][0] in {"CMD", "CMD-SHELL"}
    assert healthcheck.get("interval")
    assert healthcheck.get("retries")


def test_healthchecks_probe_what_each_service_does(services):
    def text(name: str) -> str:
        return " ".join(services[name]["healthcheck"]["test"])

    assert "/healthz" in text("web")
    assert "inspect ping" in text("worker")
    assert "celery@$$HOSTNAME" in text("worker")
    assert "pg_isready" in text("postgres")
    assert "redis-cli ping" in text("redis")
    assert "celerybeat.pid" in text("beat")


@pytest.mark.parametrize("name", sorted(APP_SERVICES))
def test_app_services_wait_for_healthy_servers_and_migrations(services, name):
    depends_on = services[name]["depends_on"]
    assert depends_on["redis"]["condition"] == "service_healthy"
    assert depends_on["migrate"]["condition"] == "service_completed_successfully"
    if name != "beat":
        assert depends_on["postgres"]["condition"] == "service_healthy"


def test_migrations_run_once_before_the_app_starts(services):
    migrate = services["migrate"]
    assert command_of(migrate)[-3:] == ["manage.py", "migrate", "--noinput"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_web_serves_the_real_wsgi_module_with_several_workers(services):
    command = command_of(services["web"])
    assert command[0] == "gunicorn"
    module = command[1].split(":")[0]
    assert module == "changemakers.wsgi"
    assert importlib.util.find_spec(module) is not None
    workers = next(arg for arg in command if arg.startswith("--workers="))
    assert workers.split("=", 1)[1] == "${WEB_CONCURRENCY:-3}"


@pytest.mark.parametrize(("name", "kind"), [("worker", "worker"), ("beat", "beat")])
def test_celery_services_run_the_project_app(services, name, kind):
    command = command_of(services[name])
    assert command[:4] == ["celery", "-A", "changemakers", kind]
    package = importlib.import_module(command[2])
    from changemakers.celery import app

    assert package.celery_app is app


def test_the_broker_keeps_messages_across_restarts(services):
    command = command_of(services["redis"])
    assert command[command.index("--appendonly") + 1] == "yes"
    # Under memory pressure only keys that expire anyway (kept pages) go, never a queued task.
    assert command[command.index("--maxmemory-policy") + 1] == "volatile-lru"
    assert command[command.index("--maxmemory") + 1]
    assert any(volume.endswith(":/data") for volume in services["redis"]["volumes"])
    assert any(
        volume.endswith(":/var/lib/postgresql/data") for volume in services["postgres"]["volumes"]
    )


@pytest.mark.parametrize("name", sorted(APP_SERVICES))
def test_app_services_run_in_production_mode_on_the_stack_servers(services, name):
    environment = services[name]["environment"]
    assert environment["DJANGO_DEBUG"] == "false"
    assert environment["DATABASE_URL"].startswith("postgres://")
    assert "@postgres:5432/" in environment["DATABASE_URL"]
    assert environment["REDIS_URL"] == "redis://redis:6379/0"


def _environment_items(compose: dict):
    for name, service in compose["services"].items():
        environment = service.get("environment") or {}
        if isinstance(environment, list):
            environment = dict(item.split("=", 1) for item in environment)
        for key, value in environment.items():
            yield name, key, str(value)


def test_no_secret_value_is_committed(compose):
    for service, key, value in _environment_items(compose):
        if SECRET_NAMES.search(key):
            assert REQUIRED_VARIABLE.fullmatch(value), f"{service}.{key} must be ${{{key}:?...}}"
        # Credentials inside URLs must come from the environment too.
        for credentials in re.findall(r"://[^/@\s]*:([^@/\s]+)@", value):
            assert REQUIRED_VARIABLE.fullmatch(credentials), f"{service}.{key} holds a password"


@pytest.mark.parametrize("key", ["DJANGO_SECRET_KEY", "DJANGO_FIELD_ENCRYPTION_KEYS"])
def test_the_secret_key_and_the_encryption_keys_are_required(compose, key):
    for service in APP_SERVICES:
        value = compose["services"][service]["environment"][key]
        assert value.startswith(f"${{{key}:?")


def test_env_example_sets_no_secret():
    for line in (BASE_DIR / ".env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            assert not (SECRET_NAMES.search(key) and value.strip()), line


def test_env_example_documents_every_variable_the_settings_read():
    settings_source = (BASE_DIR / "changemakers" / "settings" / "base.py").read_text()
    read = set(re.findall(r"env\.\w+\(\s*\"([A-Z_]+)\"", settings_source))
    documented = set(
        re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (BASE_DIR / ".env.example").read_text(), re.M)
    )
    assert read
    assert read <= documented, sorted(read - documented)


def test_the_image_is_slim_locked_unprivileged_and_has_its_static_files():
    dockerfile = (BASE_DIR / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.12-slim", dockerfile, re.M)
    assert "uv sync --frozen --no-dev" in dockerfile
    assert "collectstatic --noinput" in dockerfile
    users = re.findall(r"^USER (\S+)", dockerfile, re.M)
    assert users, "the image must not run as root"
    assert users[-1] not in {"root", "0"}
    assert "changemakers.wsgi" in dockerfile
