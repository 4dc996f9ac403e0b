# Astro Runtime for Airflow 3: deploy with `astro deploy`, or run the image on any
# Kubernetes or Docker host. The image already holds Airflow; packages.txt and
# requirements.txt add ours. Choose the Runtime release that bundles Airflow 3.3
# (see Astronomer's Runtime release notes) and set RUNTIME_TAG to it.
# Not built in this repository's tests: no Docker engine runs in CI.
ARG RUNTIME_TAG=3.1-1
FROM astrocrpublic.azurecr.io/runtime:${RUNTIME_TAG}
