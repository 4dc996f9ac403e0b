"""Which repositories to back up: the policy's pinned list, or the organisation's listing.

Discovery goes through the GitHub provider's client (PyGithub), 100 repositories
a page. Before every page it reads the quota GitHub reported on the last
answer: with too little left it waits for the reset when that is a short wait,
and otherwise stops with a message giving the reset time, so a run never
hammers an exhausted API (the task's retries try again later).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from include.dr.errors import Transient
from include.dr.git.plans import RepositorySpec
from include.dr.git.remote import GitRemote, github_api_refusal
from include.dr.policy.model import GithubAsset

PER_PAGE = 100
QUOTA_RESERVE = 10  # requests left for the rest of the run (and other tools) on the token
LONGEST_WAIT_SECONDS = 90


class RateLimitExhausted(Transient):
    """The GitHub API quota is spent and resets too late to wait for in a worker.

    Transient: the quota refills by itself within the hour, with nobody acting, so
    asking again later is the remedy; the task's retries (with backoff) ask again
    without holding a worker while they wait, and a reset that falls within them
    lets the run finish. Should it not, the run fails naming the reset time, and
    the next day's run is unaffected."""


@dataclass(frozen=True)
class Repository:
    """One repository to mirror; a wiki is optional because an enabled wiki may be empty."""

    name: str
    url: str
    optional: bool = False

    def as_dict(self) -> RepositorySpec:
        return {"name": self.name, "url": self.url, "optional": self.optional}


def pinned(asset: GithubAsset, remote: GitRemote) -> list[Repository]:
    assert asset.repositories is not None
    return [Repository(name, remote.url(asset.organisation, name)) for name in asset.repositories]


def discover(
    client: Any,
    asset: GithubAsset,
    remote: GitRemote,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], float] = time.time,
) -> list[Repository]:
    """The organisation's repositories (and wikis) that the policy's options include. A
    token GitHub refuses (expired, revoked, not authorised for the organisation's SAML
    SSO) fails permanently, naming the cause and the fix."""
    from github import GithubException

    try:
        return _listed(client, asset, remote, sleep, now)
    except GithubException as exc:
        message = str((exc.data or {}).get("message", "")) if isinstance(exc.data, dict) else ""
        refused = github_api_refusal(
            exc.status, message, f"listing the repositories of {asset.organisation}"
        )
        if refused is None:
            raise
        raise refused from exc


def _listed(
    client: Any,
    asset: GithubAsset,
    remote: GitRemote,
    sleep: Callable[[float], None],
    now: Callable[[], float],
) -> list[Repository]:
    client.per_page = PER_PAGE
    respect_quota(client, sleep, now)
    organisation = client.get_organization(asset.organisation)
    found: list[Repository] = []
    for index, repo in enumerate(organisation.get_repos(type="all", sort="full_name")):
        if index and index % PER_PAGE == 0:
            respect_quota(client, sleep, now)
        if (repo.fork and not asset.include_forks) or (
            repo.archived and not asset.include_archived
        ):
            continue
        found.append(Repository(repo.name, remote.url(asset.organisation, repo.name)))
        if asset.include_wikis and repo.has_wiki:
            wiki = f"{repo.name}.wiki"
            found.append(Repository(wiki, remote.url(asset.organisation, wiki), optional=True))
    return found


def respect_quota(client: Any, sleep: Callable[[float], None], now: Callable[[], float]) -> None:
    """Wait out a short reset; refuse a long one with the time it ends."""
    remaining, limit = client.rate_limiting
    if remaining > QUOTA_RESERVE:
        return
    reset = float(client.rate_limiting_resettime)
    wait = reset - now()
    if wait <= LONGEST_WAIT_SECONDS:
        sleep(max(wait, 0) + 1)
        return
    at = datetime.fromtimestamp(reset, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    raise RateLimitExhausted(
        f"GitHub API quota nearly spent ({remaining} of {limit} requests left); it resets at "
        f"{at}. Discovery stopped rather than hammer the API; the task retries later. To "
        "avoid the API, pin the repositories in the policy file (assets.github.repositories)."
    )
