"""airflow_settings.yaml is the one source of the local connections."""

from __future__ import annotations

import json

from include.dr.local_stack.settings import LocalSettings


def test_ports_come_from_the_connections(settings: LocalSettings) -> None:
    assert settings.moto_port == 4566
    assert settings.mysql_port == 3307
    assert settings.git_daemon_port == 9418


def test_connections_become_airflow_environment_variables(settings: LocalSettings) -> None:
    env = settings.airflow_env()
    aws = json.loads(env["AIRFLOW_CONN_AWS_DEFAULT"])
    assert aws["conn_type"] == "aws"
    assert aws["extra"]["endpoint_url"].startswith("http://127.0.0.1:")
    assert json.loads(env["AIRFLOW_CONN_AWS_DR"])["extra"]["region_name"] == "eu-west-1"
    assert {"AIRFLOW_CONN_MYSQL_DEFAULT", "AIRFLOW_CONN_GITHUB_DEFAULT"} <= env.keys()


def test_airflow_reads_the_connection_the_hooks_use(settings: LocalSettings) -> None:
    from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook

    hook = AwsBaseHook(aws_conn_id="aws_dr", client_type="s3")
    assert hook.conn_config.endpoint_url == settings.connection("aws_dr")["extra"]["endpoint_url"]
    assert hook.conn_region_name == "eu-west-1"
