"""The typed model of the backup policy file.

Every DAG reads the policy through this model, so no DAG hard-codes a region,
a window or a retention period. Each rule of the written policy that a value
can break is a validator here, and each validator's message says what is
allowed, so a person can fix the file without reading this code.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, Literal, Self, get_args, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from include.dr.policy.regions import (
    REGION_COUNTRY,
    ResidencyApproval,
    ResidencyVerdict,
    judge_residency,
)
from include.dr.rds.naming import INSTANCE_CLASS, SECURITY_GROUP, SUBNET_GROUP

# "Backups must be kept for a minimum of 1 week from the date of completion."
POLICY_MINIMUM_RETENTION_DAYS = 7
# "Backups must be tested every year."
POLICY_MAXIMUM_RESTORE_TEST_INTERVAL_DAYS = 365

_RDS_INSTANCE = re.compile(r"^[a-zA-Z](?!.*--)[a-zA-Z0-9-]{0,62}(?<!-)$")
_MYSQL_DATABASE = re.compile(r"^[A-Za-z0-9_]{1,64}$")
_S3_BUCKET = re.compile(r"^(?!xn--)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_GITHUB_OWNER = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")
_GITHUB_REPO = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
_KMS_KEY_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_KMS_ALIAS = re.compile(r"^alias/[A-Za-z0-9/_-]{1,250}$")
_KMS_ARN = re.compile(r"^arn:aws[a-z-]*:kms:(?P<region>[a-z0-9-]+):\d{12}:(key/.+|alias/.+)$")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def excerpt(value: Any, limit: int = 40, quote: bool = True) -> str:
    """``value`` for an error message: its repr (or text), cut to about ``limit`` characters, so
    a message never carries a pasted blob."""
    if isinstance(value, (dict, list, tuple)) and len(value) > 8:
        kind = "mapping" if isinstance(value, dict) else "list"
        return f"a {kind} of {len(value)} items"
    text = repr(value) if quote else str(value)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text)} characters)"


def _tuple_field(annotation: Any) -> bool:
    return get_origin(annotation) is tuple or any(_tuple_field(a) for a in get_args(annotation))


class StrictModel(BaseModel):
    """A section of the policy file: immutable, strictly typed, and unknown fields are
    refused by name.

    Strict: a number is never read from text, a flag never from a number, a whole number
    never from a decimal one; YAML's own types are what the file says.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    @model_validator(mode="before")
    @classmethod
    def _refuse_unknown_fields(cls, data: Any) -> Any:
        if isinstance(data, dict):
            allowed = set(cls.model_fields)
            unknown = sorted(excerpt(key, 40, quote=False) for key in data if key not in allowed)
            if unknown:
                listed = ", ".join(unknown[:5]) + (" ..." if len(unknown) > 5 else "")
                raise ValueError(
                    f"unknown field(s) {listed}; allowed fields here: {', '.join(sorted(allowed))}"
                )
            # YAML has lists, not tuples: a list is the written form of a tuple field.
            return {
                key: tuple(value)
                if isinstance(value, list) and _tuple_field(cls.model_fields[key].annotation)
                else value
                for key, value in data.items()
            }
        return data


def _policy_date(value: Any) -> Any:
    """A date, written unquoted (YAML reads it as a date) or quoted, as YYYY-MM-DD."""
    if isinstance(value, datetime):
        raise ValueError(f"must be a date written YYYY-MM-DD, without a time; found {value}")
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"must be a date written YYYY-MM-DD; found {excerpt(value)}")


PolicyDate = Annotated[date, BeforeValidator(_policy_date)]


class BackupWindow(StrictModel):
    """The daily window, in local wall-clock time, inside which backups must run."""

    start: time = Field(description='Local time the window opens, quoted "HH:MM".')
    end: time = Field(
        description='Local time the window closes, quoted "HH:MM"; may be after midnight.'
    )
    timezone: str = Field(
        max_length=64, description="IANA time zone the times are in, e.g. Europe/London."
    )

    @field_validator("start", "end", mode="before")
    @classmethod
    def _parse_hh_mm(cls, value: Any, info: ValidationInfo) -> Any:
        name = info.field_name
        if isinstance(value, time):
            if value.tzinfo is not None or value.second or value.microsecond:
                raise ValueError(f"must be a whole minute without a time zone; found {value}")
            return value
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            # YAML 1.1 reads an unquoted 01:30 as the sexagesimal integer 90.
            written = f"{value // 60:02d}:{value % 60:02d}"
            raise ValueError(
                f"YAML read the unquoted time {written} as the number {value}; "
                f'quote it: {name}: "{written}"'
            )
        if not isinstance(value, str):
            raise ValueError(
                f'must be a 24-hour time quoted as "HH:MM", e.g. {name}: "01:30"; '
                f"found {excerpt(value)}, which is not text: quote it"
            )
        if not re.fullmatch(r"\d{2}:\d{2}", value):
            raise ValueError(f'must be a 24-hour time written "HH:MM"; found {excerpt(value)}')
        hours, minutes = (int(part) for part in value.split(":"))
        if hours > 23 or minutes > 59:
            raise ValueError(
                "must be a time between 00:00 and 23:59 (midnight is 00:00); "
                f"found {excerpt(value)}"
            )
        return time(hours, minutes)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                "must be an IANA time zone name such as Europe/London or UTC; "
                f"found {excerpt(value)}"
            ) from None
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        if self.start == self.end:
            raise ValueError(
                "start and end are equal, which leaves no window; "
                "give an end later than the start (an end before the start means overnight)"
            )
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def overnight(self) -> bool:
        """True when the window crosses local midnight, e.g. 23:00-03:00."""
        return self.end < self.start

    @property
    def length(self) -> timedelta:
        """Nominal length on a day without a clock change."""
        day = date(2000, 1, 1)
        start = datetime.combine(day, self.start)
        end = datetime.combine(day + timedelta(days=1) if self.overnight else day, self.end)
        return end - start


class Schedule(StrictModel):
    frequency: Literal["daily"] = Field(
        description="How often every asset is backed up; the policy asks for daily."
    )
    window: BackupWindow


class Retention(StrictModel):
    minimum_days: int = Field(
        ge=POLICY_MINIMUM_RETENTION_DAYS,
        # A century: beyond it the dates retention computes overflow, and S3 lifecycle
        # rules cannot say it either.
        le=36_500,
        description="No backup younger than this is ever deleted; the policy asks for 7 or more.",
    )
    keep_verified: int = Field(
        default=1,
        ge=1,
        description="However old, at least this many verified backups of each asset are kept.",
    )


class RestoreTestNetwork(StrictModel):
    """Where the restore test's temporary instance lives in the DR region: a subnet group
    and security groups through which the workers reach it (it is never public)."""

    subnet_group: str | None = Field(
        default=None,
        description="DB subnet group in the DR region; absent means the default VPC's.",
    )
    security_group_ids: tuple[str, ...] = Field(
        default=(),
        description="VPC security groups that admit the workers on the database port; "
        "empty means the VPC's default group.",
    )

    @field_validator("subnet_group")
    @classmethod
    def _subnet_group(cls, value: str | None) -> str | None:
        if value is not None and not SUBNET_GROUP.fullmatch(value):
            raise ValueError(f"{excerpt(value)} is not a DB subnet group name")
        return value

    @field_validator("security_group_ids")
    @classmethod
    def _security_groups(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for group in value:
            if not SECURITY_GROUP.fullmatch(group):
                raise ValueError(f"{excerpt(group)} is not a security group id (sg-...)")
        return value


class RestoreTest(StrictModel):
    interval_days: int = Field(
        ge=1,
        le=POLICY_MAXIMUM_RESTORE_TEST_INTERVAL_DAYS,
        description="Days between restore tests; the policy asks for at least once a year.",
    )
    row_count_tolerance: dict[str, float] = Field(
        default_factory=dict,
        description="Per table, the fraction by which a restored row count may differ from "
        "the backup's manifest (a table not listed must match exactly).",
    )
    checksum_tables: tuple[str, ...] | None = Field(
        default=None,
        description="Tables whose content checksum must equal the manifest's; absent means all.",
    )
    s3_sample_percent: float = Field(
        default=1.0, gt=0, le=100, description="Percentage of each bucket's objects restored."
    )
    s3_minimum_objects: int = Field(
        default=20, ge=1, description="At least this many objects per bucket (or all of them)."
    )
    instance_class: str | None = Field(
        default=None,
        description="The temporary instance's class (e.g. db.t3.small); absent means the "
        "snapshot's, which is production's.",
    )
    network: RestoreTestNetwork = Field(
        default_factory=RestoreTestNetwork,
        description="Where the temporary instance is placed in the DR region.",
    )

    @field_validator("instance_class")
    @classmethod
    def _instance_class(cls, value: str | None) -> str | None:
        if value is not None and not INSTANCE_CLASS.fullmatch(value):
            raise ValueError(f"{excerpt(value)} is not an instance class (e.g. db.t3.small)")
        return value

    @field_validator("row_count_tolerance")
    @classmethod
    def _fractions(cls, value: dict[str, float]) -> dict[str, float]:
        for table, fraction in value.items():
            if not 0 <= fraction < 1:
                raise ValueError(
                    f"tolerance for {excerpt(table)} is {fraction}; "
                    "give a fraction from 0 to under 1"
                )
        return value


def _check_region(value: str) -> str:
    if value not in REGION_COUNTRY:
        raise ValueError(
            f"{excerpt(value)} is not an AWS region this product knows the country of; "
            "use a region code such as eu-west-2 (the table is include/dr/policy/regions.py)"
        )
    return value


class ResidencyException(StrictModel):
    """A recorded, reasoned decision to keep the DR copy in another country.

    It is approved for one region pair: when either region moves, the policy still loads
    but the residency verdict fails until the new pair is approved and recorded here.
    """

    production_region: str = Field(description="The production region the approval covers.")
    dr_region: str = Field(description="The DR region the approval covers.")
    reason: str = Field(
        min_length=20, max_length=2000, description="Why no same-country region can be used."
    )
    approved_by: str = Field(
        min_length=2, max_length=200, description="Who approved the exception."
    )
    approved_on: PolicyDate = Field(description="When it was approved, YYYY-MM-DD.")

    _regions = field_validator("production_region", "dr_region")(_check_region)

    @property
    def approval(self) -> ResidencyApproval:
        return ResidencyApproval(
            self.production_region, self.dr_region, self.reason, self.approved_by, self.approved_on
        )


class Regions(StrictModel):
    production: str
    dr: str
    residency_exception: ResidencyException | None = None

    _regions = field_validator("production", "dr")(_check_region)

    @model_validator(mode="after")
    def _separate_region_same_country(self) -> Self:
        if self.production == self.dr:
            raise ValueError(
                f"dr is the production region ({self.dr}); the policy asks for a separate "
                "region, so choose another region for the DR copy"
            )
        verdict = self.residency
        if not verdict.same_country and self.residency_exception is None:
            raise ValueError(
                f"dr region {self.dr} is in {verdict.dr_country} but production region "
                f"{self.production} is in {verdict.production_country}; the policy asks for "
                "the same country, so choose a DR region there, or record an approved "
                "residency_exception with production_region, dr_region, reason, approved_by "
                "and approved_on"
            )
        if verdict.same_country and self.residency_exception is not None:
            raise ValueError(
                f"a residency_exception is recorded but {self.production} and {self.dr} are "
                f"both in {verdict.dr_country}; remove the exception so the record stays true"
            )
        return self

    @property
    def residency(self) -> ResidencyVerdict:
        """The verdict: same country, or a cross-border pair approved as it is configured."""
        exception = self.residency_exception
        return judge_residency(self.production, self.dr, exception.approval if exception else None)


def _check_bucket_name(value: str) -> str:
    if not _S3_BUCKET.fullmatch(value):
        raise ValueError(
            "must be an S3 bucket name: 3-63 lower-case letters, digits, dots or hyphens, "
            f"starting and ending with a letter or digit; found {excerpt(value)}"
        )
    return value


class RdsAsset(StrictModel):
    instance: str = Field(description="RDS DB instance identifier in the production region.")
    database: str = Field(description="MySQL database (schema) holding the customer data.")
    dr_bucket: str = Field(
        description="Versioned, SSE-KMS bucket in the DR region for dumps and manifests."
    )
    fix_drift: bool = Field(
        default=False,
        description="Let the backup DAG set the instance's backup retention and window "
        "to the policy's when they drift; otherwise drift fails the preflight.",
    )
    read_replica: str | None = Field(
        default=None,
        description="The Airflow MySQL connection of a read replica of the instance. Both "
        "manifests and the logical dump then read the replica: their table scans, the dump's "
        "long-lived snapshot and the fence's pause load the replica, not the primary. Unset: "
        "they read the primary (mysql_default).",
    )
    checksums_on: Literal["database", "restored_copy"] = Field(
        default="database",
        description="Where the manifests' content checksums are computed. database: by the "
        "database the backup reads (a CRC32 of every row). restored_copy: that database only "
        "counts rows; the dump is loaded as it streams into a scratch database on the "
        "mysql_restore server, whose checksums complete the manifest once its row counts "
        "are equal. Cheaper for production; later restores are then checked against that "
        "copy, not against the database itself.",
    )
    pitr_in_dr_region: bool = Field(
        default=False,
        description="Point-in-time restores in the DR region: the instance's automated "
        "backups must be replicated there (RDS cross-region automated backup replication, "
        "in the production account), which the preflight checks. Off: a point in time is "
        "restorable in the production region only.",
    )

    _dr_bucket_name = field_validator("dr_bucket")(_check_bucket_name)

    @field_validator("instance")
    @classmethod
    def _instance_identifier(cls, value: str) -> str:
        if not _RDS_INSTANCE.fullmatch(value):
            raise ValueError(
                "must be an RDS instance identifier: 1-63 letters, digits or hyphens, "
                f"starting with a letter, no double or trailing hyphen; found {excerpt(value)}"
            )
        return value

    @field_validator("read_replica")
    @classmethod
    def _connection_id(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z0-9_.-]{1,250}", value):
            raise ValueError(
                "must be an Airflow connection id (letters, digits, _ . -), e.g. mysql_replica; "
                f"found {excerpt(value)}"
            )
        return value

    @field_validator("database")
    @classmethod
    def _database_name(cls, value: str) -> str:
        if not _MYSQL_DATABASE.fullmatch(value):
            raise ValueError(
                "must be a MySQL database name of 1-64 letters, digits or _; "
                f"found {excerpt(value)}"
            )
        return value


class S3Asset(StrictModel):
    source: str = Field(description="Production bucket to back up.")
    dr_bucket: str = Field(description="Versioned, SSE-KMS bucket in the DR region.")
    prefixes: tuple[str, ...] = Field(
        default=(), description="Only these key prefixes; empty means the whole bucket."
    )
    fix_settings: bool = Field(
        default=False,
        description="Let the backup DAG set the DR bucket's versioning, encryption, lifecycle "
        "and TLS-only policy when they are missing; otherwise a violation fails the run.",
    )

    _bucket_names = field_validator("source", "dr_bucket")(_check_bucket_name)

    @field_validator("prefixes")
    @classmethod
    def _safe_prefixes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for prefix in value:
            if not prefix or prefix.startswith("/") or ".." in prefix.split("/"):
                raise ValueError(
                    f"prefix {excerpt(prefix)} must be a non-empty key prefix without a "
                    "leading '/' or '..' segments, e.g. 'invoices/'"
                )
        return value

    @model_validator(mode="after")
    def _distinct_buckets(self) -> Self:
        if self.source == self.dr_bucket:
            raise ValueError(
                f"dr_bucket is the source bucket {excerpt(self.source)}; a backup in the same "
                "bucket is lost with it, so name a separate bucket in the DR region"
            )
        return self


class GithubAsset(StrictModel):
    organisation: str = Field(description="GitHub organisation that owns the repositories.")
    repositories: tuple[str, ...] | None = Field(
        default=None,
        description="A pinned list of repository names; when absent, the organisation is listed.",
    )
    include_forks: bool = Field(
        default=True,
        description="Back up forks found by discovery (a fork may carry unmerged work).",
    )
    include_archived: bool = Field(
        default=True, description="Back up archived repositories found by discovery."
    )
    include_wikis: bool = Field(
        default=False,
        description="Also mirror each repository's wiki, where the repository has one enabled.",
    )
    dr_bucket: str = Field(
        description="The DR bucket (versioned, SSE-KMS) that holds the bundles of record: "
        "restores and the restore test read them there, from any worker. A worker's own "
        "copy is only a cache.",
    )

    _dr_bucket_name = field_validator("dr_bucket")(_check_bucket_name)

    @field_validator("organisation")
    @classmethod
    def _owner(cls, value: str) -> str:
        if not _GITHUB_OWNER.fullmatch(value):
            raise ValueError(
                "must be a GitHub organisation login: letters, digits and single hyphens, "
                f"at most 39 characters; found {excerpt(value)}"
            )
        return value

    @field_validator("repositories")
    @classmethod
    def _repos(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is None:
            return value
        if not value:
            raise ValueError("is empty; list at least one repository, or remove the field")
        for name in value:
            if not _GITHUB_REPO.fullmatch(name) or name in {".", ".."}:
                raise ValueError(
                    f"repository {excerpt(name)} must be 1-100 letters, digits, '.', '-' or '_'"
                )
        if len(set(value)) != len(value):
            raise ValueError("lists a repository twice; list each once")
        return value


class Assets(StrictModel):
    rds: tuple[RdsAsset, ...] = ()
    s3: tuple[S3Asset, ...] = ()
    github: GithubAsset | None = None

    @model_validator(mode="after")
    def _no_shared_resources(self) -> Self:
        instances = [asset.instance for asset in self.rds]
        _refuse_repeats("rds instance", instances)
        _refuse_repeats("s3 source bucket", [asset.source for asset in self.s3])
        _refuse_repeats("dr_bucket", list(self.dr_buckets))
        sources = {asset.source for asset in self.s3}
        for bucket in self.dr_buckets:
            if bucket in sources:
                raise ValueError(
                    f"dr_bucket {excerpt(bucket)} is also backed up as a source; "
                    "a DR bucket must hold backups only"
                )
        if not (self.rds or self.s3 or self.github):
            raise ValueError("lists no assets; name at least one rds, s3 or github asset")
        return self

    @property
    def dr_buckets(self) -> tuple[str, ...]:
        """Every DR bucket the policy writes backups to."""
        github = (self.github.dr_bucket,) if self.github and self.github.dr_bucket else ()
        return tuple(a.dr_bucket for a in self.s3) + tuple(a.dr_bucket for a in self.rds) + github


def _refuse_repeats(what: str, names: list[str]) -> None:
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"{what} {', '.join(repeated)} is listed twice; list each once")


class CloudService(StrictModel):
    """A service whose SLA the Compliance Team accepted in place of company backups."""

    name: str = Field(min_length=2, max_length=200)
    sla_url: str = Field(max_length=2000, description="Where the SLA is published.")
    sla_reviewed_on: PolicyDate = Field(
        description="When the Compliance Team last read the SLA, YYYY-MM-DD."
    )
    reviewed_by: str = Field(min_length=2, max_length=200)

    @field_validator("sla_url")
    @classmethod
    def _https(cls, value: str) -> str:
        if not re.fullmatch(r"https://\S+", value):
            raise ValueError(f"must be the SLA's https:// address; found {excerpt(value)}")
        return value

    def register_entry(self) -> dict[str, str]:
        """The service's line in the SLA register, as the page and the evidence pack show it."""
        return {
            "name": self.name,
            "sla_url": self.sla_url,
            "reviewed_on": self.sla_reviewed_on.isoformat(),
            "reviewed_by": self.reviewed_by,
        }


class NotifierSpec(StrictModel):
    """Any Airflow notifier (Slack, e-mail...) in place of SNS, by configuration."""

    class_path: str = Field(
        description="Dotted path of a notifier class, e.g. "
        "airflow.providers.slack.notifications.slack.SlackNotifier."
    )
    arguments: dict[str, Any] = Field(
        default_factory=dict, description="Its arguments, e.g. slack_conn_id and channel."
    )
    message_argument: str = Field(
        default="message", description="The argument that takes the alert's text (Slack: text)."
    )
    subject_argument: str | None = Field(
        default="subject", description="The argument that takes its subject, if it has one."
    )

    @field_validator("class_path")
    @classmethod
    def _dotted(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)+", value):
            raise ValueError(
                f"must be a dotted class path such as a.b.SlackNotifier; found {excerpt(value)}"
            )
        return value


class Alerts(StrictModel):
    """Where failure, missed-window and tamper alerts go."""

    sns_topic_arn: str = Field(description="SNS topic that receives backup alerts.")
    notifier: NotifierSpec | None = Field(
        default=None,
        description="Send alerts through this notifier instead of the SNS topic (the window "
        "deadline alert stays on SNS).",
    )

    @field_validator("sns_topic_arn")
    @classmethod
    def _topic_arn(cls, value: str) -> str:
        if not re.fullmatch(r"arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}", value):
            raise ValueError(
                "must be an SNS topic ARN such as arn:aws:sns:eu-west-2:123456789012:backup-alerts;"
                f" found {excerpt(value)}"
            )
        return value

    @property
    def region(self) -> str:
        return self.sns_topic_arn.split(":")[3]

    @property
    def topic_name(self) -> str:
        return self.sns_topic_arn.split(":")[5]


class BackupPolicy(StrictModel):
    """The whole policy file."""

    schema_version: Literal[1] = Field(description="Version of this file's format.")
    company: str = Field(min_length=2, max_length=200)
    schedule: Schedule
    retention: Retention
    restore_test: RestoreTest
    regions: Regions
    kms_keys: dict[str, str] = Field(
        description="KMS key (alias, key id or ARN) to encrypt backups with, per region."
    )
    assets: Assets
    alerts: Alerts
    cloud_services: tuple[CloudService, ...] = ()

    @field_validator("schema_version", mode="before")
    @classmethod
    def _whole_number(cls, value: Any) -> Any:
        # A Literal compares by equality, so true and 1.0 would pass as 1.
        if type(value) is not int:
            raise ValueError(f"must be the number 1, unquoted; found {excerpt(value)}")
        return value

    @field_validator("kms_keys")
    @classmethod
    def _keys_by_region(cls, value: dict[str, str]) -> dict[str, str]:
        for region, key in value.items():
            if region not in REGION_COUNTRY:
                raise ValueError(
                    f"{excerpt(region)} is not a region; each key of kms_keys must be a region "
                    "code from include/dr/policy/regions.py, such as eu-west-2"
                )
            _check_kms_key(region, key)
        return value

    @model_validator(mode="after")
    def _keys_for_both_regions(self) -> Self:
        for role, region in (("production", self.regions.production), ("dr", self.regions.dr)):
            if region not in self.kms_keys:
                raise ValueError(
                    f"kms_keys has no key for the {role} region {region}; add "
                    f"'{region}: alias/<name>' so backups there are encrypted with a known key"
                )
        return self

    def kms_key(self, region: str) -> str:
        return self.kms_keys[region]


def _check_kms_key(region: str, key: str) -> None:
    arn = _KMS_ARN.fullmatch(key)
    if arn:
        if arn.group("region") != region:
            raise ValueError(
                f"kms_keys.{region} is an ARN in region {arn.group('region')}; "
                f"a KMS key only works in its own region, so give a key from {region}"
            )
        return
    if not (_KMS_ALIAS.fullmatch(key) or _KMS_KEY_ID.fullmatch(key)):
        raise ValueError(
            f"kms_keys.{region} must be a KMS alias (alias/name), key id or key ARN; "
            f"found {excerpt(key)}"
        )
