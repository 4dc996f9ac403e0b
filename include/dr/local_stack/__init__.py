"""The local stack: moto, MariaDB, git daemon and Airflow on loopback, for the demo and tests."""
