"""The AWS operations the product makes, recorded as it makes them.

The IAM policies in ``infra/`` are built from this record, not written by hand. A
botocore event hook, installed on every botocore session (aiobotocore's too, so the
triggers and the s3fs store are seen), notes each operation with the connection that
signed it, the region, the resource it names and the DAG whose task made it. Only calls
made while Airflow runs a task or a trigger count: test and stack code's own (seeding,
assertions) are left out.

Names are folded into patterns (``swl-customers-prod-2026-11-29`` becomes
``swl-customers-prod-*``), and the policy file's names into placeholders
(``{instance}-*``), so the inventory is the same on every run, every day and under
every test's policy, and the IAM policies follow the policy file.
"""

from __future__ import annotations

import contextvars
import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from include.dr.policy.loader import load_policy, policy_path
from include.dr.policy.model import BackupPolicy
from include.dr.project import PROJECT_ROOT
from include.dr.store import store_url

PRODUCT_DIRS = ("include/dr/", "dags/", "plugins/")
NOT_PRODUCT_DIRS = ("include/dr/local_stack/", "include/dr/iam/", "tests/", "bench/")
# Frames of Airflow running a task or a trigger: a call below one is the product's.
AIRFLOW_EXECUTION = (
    "/airflow/sdk/execution_time/",
    "/airflow/sdk/definitions/dag.py",
    "/airflow/jobs/",
    "/airflow/triggers/",
    "/airflow/providers/amazon/aws/triggers/",
)
SEPARATORS = ("-", "/", ":", ".", "_", "")
COPY_SOURCE = "from:"  # marks the source of a copy: it is read, the target is written
_HEX_RUN = re.compile(r"^[0-9a-f]{8,}$")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass(frozen=True, order=True)
class Call:
    """One kind of AWS operation: who signed it, where, and on what."""

    principal: str  # the connection whose credentials signed it
    service: str  # botocore's service name: s3, rds, kms, sns, cloudtrail, sts
    operation: str  # the API operation: CopyObject, CreateDBSnapshot, ...
    region: str
    resource: str  # a pattern, the policy's names as placeholders: {object_dr_bucket}/*
    family: str  # the DAG that made it, or the module when a trigger did


def fold(name: str) -> str:
    """A name with its dated or random parts folded to ``*``: stable from run to run."""
    folded: list[str] = []
    for part in re.split(r"(\{[a-z_]+\}|[-/:._])", _UUID.sub("0", name)):
        literal = part in SEPARATORS or part.startswith("{")
        wild = not literal and (any(c.isdigit() for c in part) or _HEX_RUN.match(part))
        piece = "*" if wild else part
        if piece == "*" and len(folded) >= 2 and folded[-2] == "*" and folded[-1] in "-:._":
            folded.pop()  # "*-*" is "*"
            continue
        folded.append(piece)
    return "".join(folded)


def _arn_name(value: str) -> str:
    """An ARN's resource part (``snapshot:name`` of an RDS ARN), or the value itself."""
    if value.startswith("arn:"):
        return value.split(":", 5)[5]
    return value


def resources(
    service: str, params: Mapping[str, Any], names: Sequence[tuple[str, str]] = ()
) -> list[str]:
    """The resources an operation names, as patterns (``*`` when it names none), the
    policy's ``names`` replaced by their placeholders."""

    def pattern(name: str) -> str:
        for known, placeholder in names:
            name = name.replace(known, placeholder)
        return fold(name)

    found: list[str] = []
    if service == "s3":
        if "Bucket" in params:
            found.append(pattern(params["Bucket"]) + ("/*" if "Key" in params else ""))
        source = params.get("CopySource")
        if isinstance(source, Mapping):
            found.append(f"{COPY_SOURCE}{pattern(source['Bucket'])}/*")
        elif isinstance(source, str):
            found.append(f"{COPY_SOURCE}{pattern(source.lstrip('/').split('/', 1)[0])}/*")
    elif service == "rds":
        for field, kind in (
            ("DBInstanceIdentifier", "db"),
            ("SourceDBInstanceIdentifier", "db"),
            ("TargetDBInstanceIdentifier", "db"),
            ("DBSnapshotIdentifier", "snapshot"),
            ("SourceDBSnapshotIdentifier", "snapshot"),
            ("TargetDBSnapshotIdentifier", "snapshot"),
        ):
            if field in params:
                name = _arn_name(str(params[field]))
                found.append(pattern(name if ":" in name else f"{kind}:{name}"))
        if "ResourceName" in params:
            found.append(pattern(_arn_name(str(params["ResourceName"]))))
    elif service == "kms" and "KeyId" in params:
        found.append(pattern(_arn_name(str(params["KeyId"]))))
    elif service == "sns" and ("TopicArn" in params or "TargetArn" in params):
        found.append(pattern(_arn_name(str(params.get("TopicArn") or params["TargetArn"]))))
    elif service == "cloudtrail":
        trails = params.get("trailNameList") or [params.get("Name") or params.get("TrailName")]
        found += [pattern(_arn_name(str(trail))) for trail in trails if trail]
    return found or ["*"]


def product_module(frames: Iterable[str]) -> str | None:
    """The product module a call was made from, when Airflow was running it as a task or
    trigger (``None`` for test and stack code's own calls). ``frames`` are file names,
    innermost first."""
    root = f"{PROJECT_ROOT}/"
    module: str | None = None
    for filename in frames:
        if any(marker in filename for marker in AIRFLOW_EXECUTION):
            return module or "airflow"
        if not filename.startswith(root) or "/.venv/" in filename:
            continue
        relative = filename.removeprefix(root)
        if relative.startswith(NOT_PRODUCT_DIRS):
            return None
        if module is None and relative.startswith(PRODUCT_DIRS):
            module = relative.removesuffix(".py").replace("/", ".")
    return None


def placeholders(policy: BackupPolicy, store_url: str) -> list[tuple[str, str]]:
    """Each name the policy file (or the store URL) gives, and the placeholder the
    inventory records in its place; longest names first, so none is half replaced."""
    names: dict[str, str] = {policy.alerts.topic_name: "{alerts_topic}"}
    for asset in policy.assets.s3:
        names[asset.source] = "{source_bucket}"
        names[asset.dr_bucket] = "{object_dr_bucket}"
    for rds in policy.assets.rds:
        names[rds.dr_bucket] = "{database_dr_bucket}"
        names[rds.instance] = "{instance}"
    if policy.assets.github and policy.assets.github.dr_bucket:
        names[policy.assets.github.dr_bucket] = "{code_dr_bucket}"
    for alias in policy.kms_keys.values():
        names[alias] = "{key_alias}"
    if store_url.startswith("s3://"):
        names[store_url.removeprefix("s3://").split("/", 1)[0]] = "{store_bucket}"
    return sorted(names.items(), key=lambda item: -len(item[0]))


def calling_family(frames: Iterable[str]) -> str | None:
    """The DAG whose task (or trigger) is making a call, or the module when no task has
    run in this process; ``None`` when it is not the product's call."""
    module = product_module(frames)
    if module is None:
        return None
    return os.environ.get("AIRFLOW_CTX_DAG_ID") or module


# A pool thread, or the object store's event-loop thread, has no Airflow frame: the
# family of the code that handed it the work (a context variable, which asyncio carries
# from the calling thread into the coroutine it schedules).
_HANDED_OVER: contextvars.ContextVar[str | None] = contextvars.ContextVar("dr_family", default=None)


def _frames() -> list[str]:
    frame, names = sys._getframe(2), []  # noqa: SLF001 - the stack is the only witness
    while frame is not None:
        names.append(frame.f_code.co_filename)
        frame = frame.f_back  # type: ignore[assignment]
    return names


class Recorder:
    """Collects calls in memory; ``principals`` names each access key's connection."""

    def __init__(self, principals: Mapping[str, str]) -> None:
        self.principals = dict(principals)
        self.calls: set[Call] = set()
        self._policies: dict[tuple[str, float, str], list[tuple[str, str]]] = {}

    def _names(self) -> list[tuple[str, str]]:
        """The placeholders of the policy file in effect (tests switch policies)."""
        path = policy_path()
        key = (str(path), path.stat().st_mtime, store_url())
        if key not in self._policies:
            self._policies[key] = placeholders(load_policy(path), store_url())
        return self._policies[key]

    def params_seen(self, params: Mapping[str, Any], context: dict[str, Any], **_: Any) -> None:
        family = calling_family(_frames()) or _HANDED_OVER.get()
        if family is not None:
            context["dr_call_params"] = dict(params)
            context["dr_call_family"] = family

    def call_made(self, model: Any, request_signer: Any, context: dict[str, Any], **_: Any) -> None:
        family = context.get("dr_call_family")
        if family is None:
            return
        credentials = getattr(request_signer, "_credentials", None)
        key = getattr(credentials, "access_key", None) or "anonymous"
        service = model.service_model.service_name
        region = str(context.get("client_region") or getattr(request_signer, "_region_name", ""))
        params = context.get("dr_call_params", {})
        for resource in resources(service, params, self._names()):
            self.calls.add(
                Call(
                    principal=self.principals.get(key, "unknown"),
                    service=service,
                    operation=model.name,
                    region=region,
                    resource=resource,
                    family=family,
                )
            )

    def write(self, path: Path) -> None:
        """Append this process's calls to ``path`` (one JSON object a line)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a") as out:
            for call in sorted(self.calls):
                out.write(json.dumps(asdict(call), sort_keys=True) + "\n")


def install(recorder: Recorder) -> Callable[[], None]:
    """Register the recorder on every botocore session made from now on, and carry the
    calling family into the threads of every pool; returns the undo. Sessions made
    earlier (none, when called at start-up) are not seen."""
    import botocore.session
    import fsspec.asyn

    original = botocore.session.Session._register_components  # noqa: SLF001

    def register(session: Any) -> None:
        original(session)
        events = session.get_component("event_emitter")
        events.register("provide-client-params.*.*", recorder.params_seen)
        events.register("before-call.*.*", recorder.call_made)

    botocore.session.Session._register_components = register  # type: ignore[method-assign]  # noqa: SLF001
    submit = ThreadPoolExecutor.submit

    def submitted(
        pool: ThreadPoolExecutor, fn: Callable[..., Any], /, *args: Any, **kwargs: Any
    ) -> Any:
        family = calling_family(_frames()) or _HANDED_OVER.get()

        def run(*args: Any, **kwargs: Any) -> Any:
            token = _HANDED_OVER.set(family)
            try:
                return fn(*args, **kwargs)
            finally:
                _HANDED_OVER.reset(token)

        return submit(pool, run, *args, **kwargs)

    ThreadPoolExecutor.submit = submitted  # type: ignore[method-assign,assignment]
    sync = fsspec.asyn.sync

    def synced(*args: Any, **kwargs: Any) -> Any:
        token = _HANDED_OVER.set(calling_family(_frames()) or _HANDED_OVER.get())
        try:
            return sync(*args, **kwargs)
        finally:
            _HANDED_OVER.reset(token)

    fsspec.asyn.sync = synced

    def undo() -> None:
        botocore.session.Session._register_components = original  # type: ignore[method-assign]  # noqa: SLF001
        ThreadPoolExecutor.submit = submit  # type: ignore[method-assign]
        fsspec.asyn.sync = sync

    return undo


def read(paths: Iterable[Path]) -> set[Call]:
    """The calls in recorded JSON-lines files (several processes, several runs)."""
    calls: set[Call] = set()
    for path in paths:
        for line in path.read_text().splitlines():
            if line.strip():
                calls.add(Call(**json.loads(line)))
    return calls
