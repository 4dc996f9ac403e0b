"""The daily RDS MySQL backup: names, preflight, manifest, snapshots and the logical dump."""
