"""The git backup's batch planning: at most four batches, the run's window day, mirrors no
longer listed reported; a policy without a GitHub section refused permanently."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from include.dr.errors import Permanent
from include.dr.git.planning import MAX_BATCHES, NothingToBackUp, plan_repositories
from include.dr.git.remote import GitRemote
from include.dr.policy.loader import load_policy

REMOTE = GitRemote("https://github.com")
NOON = datetime(2026, 11, 26, 12, tzinfo=UTC)


@pytest.fixture
def pin(
    use_policy: Callable[..., dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[[list[str]], None]:
    monkeypatch.setenv("BACKUP_CACHE_DIR", str(tmp_path / "store"))

    def write(names: list[str]) -> None:
        use_policy(lambda p: p["assets"]["github"].update(repositories=names))

    return write


@pytest.mark.parametrize("count", [1, 3, 4, 9])
def test_repositories_are_dealt_into_at_most_four_batches(
    pin: Callable[[list[str]], None], count: int
) -> None:
    names = [f"r{n}" for n in range(count)]
    pin(names)
    plan = plan_repositories(load_policy(), NOON, REMOTE, None, None, [])
    assert len(plan["batches"]) == min(count, MAX_BATCHES)
    dealt = sorted(r["name"] for b in plan["batches"] for r in b["repositories"])
    assert dealt == sorted(names) == plan["listed"]
    assert plan["source"] == "pinned in the policy file"
    assert all(
        b["day"] == plan["day"] and b["dr_bucket"] == "swl-source-code-dr" for b in plan["batches"]
    )
    assert (
        plan["batches"][0]["repositories"][0]["url"]
        == f"https://github.com/{plan['organisation']}/r0.git"
    )


def test_a_repository_with_bundles_of_record_no_longer_listed_is_reported(
    pin: Callable[[list[str]], None],
) -> None:
    pin(["app"])
    plan = plan_repositories(load_policy(), NOON, REMOTE, None, None, ["app", "old"])
    assert plan["vanished"] == ["old"]


def test_a_policy_without_github_is_refused_permanently(
    use_policy: Callable[..., dict[str, Any]],
) -> None:
    use_policy(lambda p: p["assets"].pop("github"))
    with pytest.raises(NothingToBackUp, match="no assets.github section") as refused:
        plan_repositories(load_policy(), NOON, REMOTE, None, None, [])
    assert isinstance(refused.value, Permanent)
