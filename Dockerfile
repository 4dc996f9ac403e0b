# The project's image for the official Helm chart, a Celery or Kubernetes executor, or any
# Docker host. Not built in this repository's tests (no Docker engine runs in CI);
# tests/test_project_files.py reads this file and checks it against uv.lock.
#
# Base: the official Apache Airflow image, with a literal tag. uv.lock pins Airflow 3.3.2
# on Python 3.11 (requires-python "==3.11.*"), and `apache/airflow:<version>-python<x.y>`
# names exactly that pair, so the tag follows from the lock and tools (and the test) can
# read it. The image is built with Airflow's own constraints for 3.3.2, which agree with
# the lock's Airflow. An Astro Runtime tag does not name its Airflow version, and which
# Runtime release ships 3.3.2 cannot be checked from here; for Astro, see the README
# ("Deployment").
FROM apache/airflow:3.3.2-python3.11

# System packages (packages.txt, one a line), as root:
# - git and git-lfs: mirrors, bundles and LFS objects (without git-lfs the evidence says
#   the LFS objects were not backed up);
# - mariadb-client: mysqldump and mysql for the RDS dumps and logical restores;
# - libmariadb-dev, pkg-config and gcc: mysqlclient (the MySQL provider's driver) has no
#   Linux wheel on PyPI, so pip builds it here from source against MariaDB's headers.
USER root
COPY packages.txt /tmp/packages.txt
RUN apt-get update \
    && xargs --arg-file=/tmp/packages.txt apt-get install -y --no-install-recommends \
    && apt-get autoremove -yqq --purge \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/* /tmp/packages.txt \
    && git lfs install --system --skip-repo

# The RDS CA bundle, which every MySQL connection names as its extra ssl.ca (the product
# opens none without verified TLS: include/dr/rds/transport.py). AWS publishes it here.
ADD --chmod=644 https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem \
    /opt/airflow/rds-ca/global-bundle.pem

# Python packages, as the airflow user, as the image's documentation asks.
# Every pin in requirements.txt equals uv.lock's version; naming apache-airflow at the
# image's own version keeps pip from moving Airflow while it resolves them.
USER airflow
COPY requirements.txt /tmp/requirements.txt
RUN pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" -r /tmp/requirements.txt

# The project: DAGs, the product package (include/) and the UI plugin.
COPY --chown=airflow:root dags/ /opt/airflow/dags/
COPY --chown=airflow:root include/ /opt/airflow/include/
COPY --chown=airflow:root plugins/ /opt/airflow/plugins/
ENV PYTHONPATH=/opt/airflow
