"""Discovery through the GitHub provider's hook against recorded API answers over HTTP:
pagination, the policy's fork/archive/wiki options, and the rate limit."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from include.dr.git.discovery import RateLimitExhausted, discover
from include.dr.git.remote import GitRemote
from include.dr.policy.model import GithubAsset
from tests.github_api import ORG, ApiState, github_api

TOKEN = "ghp_recordedApiTestToken000000000000000"


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., tuple[Any, ApiState]]]:
    """Start the recorded API with a chosen quota; return a client from the provider hook."""
    from airflow.providers.github.hooks.github import GithubHook

    started: list[Any] = []

    def start(**quota: Any) -> tuple[Any, ApiState]:
        context = github_api(ApiState(**quota))
        state = context.__enter__()
        started.append(context)
        conn = {"conn_type": "github", "host": state.base, "password": TOKEN}
        monkeypatch.setenv("AIRFLOW_CONN_GITHUB_RECORDED", json.dumps(conn))
        client = GithubHook(github_conn_id="github_recorded").get_conn()
        return client, state

    yield start
    for context in started:
        context.__exit__(None, None, None)


REMOTE = GitRemote("https://github.com")


def names(found: list[Any]) -> list[str]:
    return [repo.name for repo in found]


def test_every_page_is_listed_with_the_token_and_clone_urls_without_it(api: Any) -> None:
    client, state = api()
    found = discover(client, GithubAsset(organisation=ORG, dr_bucket="swl-source-code-dr"), REMOTE)
    assert len(found) == 105  # 100 on the first page, 5 on the second
    assert {"service-000", "service-100", "old-site", "upstream-lib"} <= set(names(found))
    assert [p for p in state.requests if "/repos" in p and "page=2" in p]
    assert state.authorizations == {f"token {TOKEN}"}
    assert all(TOKEN not in repo.url for repo in found)
    assert found[0].url.startswith("https://github.com/social-workshop/")


def test_policy_options_leave_out_forks_and_archives_and_add_wikis(api: Any) -> None:
    client, _ = api()
    asset = GithubAsset(
        organisation=ORG,
        dr_bucket="swl-source-code-dr",
        include_forks=False,
        include_archived=False,
        include_wikis=True,
    )
    found = discover(client, asset, REMOTE)
    assert "upstream-lib" not in names(found) and "old-site" not in names(found)
    wikis = [repo for repo in found if repo.name.endswith(".wiki")]
    assert sorted(w.name for w in wikis) == ["mobile-app.wiki", "webapp.wiki"]
    assert all(w.optional for w in wikis)


def test_a_spent_quota_with_a_distant_reset_stops_clearly_without_hammering(api: Any) -> None:
    client, state = api(remaining=3, reset_in=1800)
    with pytest.raises(RateLimitExhausted, match=r"3 of 5000 requests left.*resets at .* UTC"):
        discover(
            client,
            GithubAsset(organisation=ORG, dr_bucket="swl-source-code-dr"),
            REMOTE,
            sleep=pytest.fail,
        )
    assert not [p for p in state.requests if "/repos" in p]  # no listing was attempted


def test_a_quota_that_resets_soon_is_waited_for_then_listing_goes_on(api: Any) -> None:
    client, state = api(remaining=12, reset_in=2)
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        state.reset_at = 1.0  # the reset has come

    found = discover(
        client, GithubAsset(organisation=ORG, dr_bucket="swl-source-code-dr"), REMOTE, sleep=sleep
    )
    assert len(found) == 105
    assert len(waits) == 1 and 0 < waits[0] <= 4  # waited once, before the second page


def test_enterprise_api_urls_give_the_git_host_and_git_url_overrides_it() -> None:
    enterprise = GitRemote.from_connection("https://ghe.example.com/api/v3", "t", {})
    assert enterprise.url("org", "app") == "https://ghe.example.com/org/app.git"
    assert GitRemote.from_connection(None, "t", {}).base_url == "https://github.com"
    local = GitRemote.from_connection(None, "t", {"git_url": "git://127.0.0.1:9418"})
    assert local.url("org", "app") == "git://127.0.0.1:9418/org/app.git"


@pytest.mark.parametrize(
    ("status", "message", "cause"),
    [
        (401, "Bad credentials", "token"),
        (
            403,
            "Resource protected by organization SAML enforcement. You must grant your "
            "Personal Access token access to this organization.",
            "SAML",
        ),
    ],
)
def test_a_token_github_refuses_fails_discovery_permanently_naming_the_cause(
    api: Any, status: int, message: str, cause: str
) -> None:
    from include.dr.errors import Permanent

    client, state = api()
    state.refusal = (status, message)
    with pytest.raises(Permanent) as refused:
        discover(client, GithubAsset(organisation=ORG, dr_bucket="swl-source-code-dr"), REMOTE)
    assert cause in str(refused.value) and ORG in str(refused.value)
    assert TOKEN not in str(refused.value)
