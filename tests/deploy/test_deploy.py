"""The deployment files an operator copies (deploy/): the same concurrency rules as the laptop instance, no
secret, the webserver on 127.0.0.1 unless told otherwise, services that restart on failure."""

from pathlib import Path

import yaml
from dagster import DagsterInstance

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def test_the_team_instance_keeps_the_laptop_instances_concurrency_retries_and_monitoring():
    laptop = yaml.safe_load((ROOT / "dagster_home" / "dagster.yaml").read_text())
    team = yaml.safe_load((DEPLOY / "dagster.yaml").read_text())
    for section in ("concurrency", "run_retries", "run_monitoring", "retention", "telemetry"):
        assert team[section] == laptop[section], section
    assert team["storage"] == {"postgres": {"postgres_url": {"env": "DAGSTER_POSTGRES_URL"}}}
    assert team["run_coordinator"]["class"] == "QueuedRunCoordinator"


def test_the_team_instance_runs_on_postgres_with_the_queue_and_the_duckdb_pool(tmp_path, monkeypatch, postgres):
    (tmp_path / "dagster.yaml").write_text((DEPLOY / "dagster.yaml").read_text())
    monkeypatch.setenv("DAGSTER_POSTGRES_URL", postgres.url.replace("postgresql://", "postgresql+psycopg2://"))
    with DagsterInstance.from_config(str(tmp_path)) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        assert instance.get_concurrency_config().pool_config.default_pool_limit == 1
        assert instance.get_concurrency_config().run_queue_config.max_concurrent_runs == 2


def test_no_secret_is_committed_and_the_webserver_binds_loopback():
    env = (DEPLOY / "police.env.example").read_text()
    urls = [line.split("=", 1)[1] for line in env.splitlines() if "_URL=postgresql" in line]
    assert urls and all(":CHANGE-ME@" in url for url in urls)
    assert "DAGSTER_WEBSERVER_HOST=127.0.0.1" in env
    # dagster-postgres is written for psycopg2: the storage URL must name it (SQLAlchemy 2.1 defaults to psycopg 3)
    assert "DAGSTER_POSTGRES_URL=postgresql+psycopg2://" in env
    webserver = (DEPLOY / "systemd" / "police-dagster-webserver.service").read_text()
    assert "-h ${DAGSTER_WEBSERVER_HOST}" in webserver


def test_both_services_restart_on_failure_and_read_the_environment_file():
    for name in ("police-dagster-webserver.service", "police-dagster-daemon.service"):
        unit = (DEPLOY / "systemd" / name).read_text()
        assert "Restart=on-failure" in unit, name
        assert "EnvironmentFile=/etc/police-data/police.env" in unit, name
        assert "-w workspace.yaml" in unit, name


def test_one_statement_of_the_environment_files_owner_and_mode_everywhere_it_is_given():
    """root:police, 640: the services and the health check run as police and must read it."""
    import re

    stated = {
        "police.env.example": (DEPLOY / "police.env.example").read_text(),
        "operations.md": (ROOT / "docs" / "operations.md").read_text(),
    }
    for name, text in stated.items():
        modes = set(re.findall(r"(?:chmod|mode) (\d{3})", text))
        assert modes == {"640"}, (name, modes)
    assert "owner root, group police, mode 640" in stated["police.env.example"]
    assert "chown root:police /etc/police-data/police.env" in stated["operations.md"]
    assert "sudo -u police" in (DEPLOY / "healthcheck.sh").read_text()  # run as the user that can read it
