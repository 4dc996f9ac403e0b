"""The Airflow connection ids the product reads, named once.

Secrets come only from these connections (a secrets backend in production,
``airflow_settings.yaml`` on the local stack); changing them is how the same
DAGs move from the local stack to real AWS and GitHub.
"""

from __future__ import annotations

from typing import Final

AWS_PRODUCTION: Final = "aws_default"  # the production account: sources, snapshots
AWS_DR: Final = "aws_dr"  # the DR account: DR buckets, DR snapshot copies, keys
# The restore operator, in the DR account: reads the backups and writes where a restore is
# asked to go. The daily DAGs never hold it, so their credentials cannot overwrite
# production data, and it restores with the production account lost.
AWS_RESTORE: Final = "aws_restore"
# The restore operator's production side: a point in time of a production instance can
# only be restored in the production account, where its automated backups are.
AWS_RESTORE_PRODUCTION: Final = "aws_restore_production"
GITHUB: Final = "github_default"  # the organisation's git host and read-only token
# The restores' push credential: write access and the `workflow` scope (a pushed
# .github/workflows/ needs it), kept apart so the daily backup's token stays read-only.
GITHUB_RESTORE: Final = "github_restore"
GIT_BUNDLE_KEY: Final = "git_bundle_key"  # the bundles' AES-256 key (base64 password)
MYSQL_PRODUCTION: Final = "mysql_default"  # the production database (manifests, dumps)
MYSQL_RESTORE: Final = "mysql_restore"  # the scratch server restores and the test load into
