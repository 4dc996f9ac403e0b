"""A GitHub App's installation access token for git, minted again before it expires.

An installation token lasts one hour, and a backup of many repositories (or a restore
pushing in increments) runs longer, so git never holds one token for the whole task:
:class:`InstallationTokens` hands out the token it holds while it has more than
:data:`REFRESH_MARGIN` to live, and mints a new one otherwise. The margin is wider than
PyGithub's own (20 s) because one git command may make several HTTP requests over
minutes. Every token minted is passed to ``on_issue`` (the task masks it in logs) and
kept in :meth:`InstallationTokens.issued`, so errors can be scrubbed of any of them.

Tokens are minted through the App auth the GitHub provider's hook builds
(:func:`mint_installation_token`, PyGithub's ``GithubIntegration``); a refusal goes through
the same classification as git's (:func:`include.dr.git.remote.github_refusal`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from include.dr.git.remote import GitFailed, GitRefused, GitUnreachable, github_refusal

# Mint a new token when the one held has less than this left to live.
REFRESH_MARGIN = timedelta(minutes=10)


def utc_now() -> datetime:
    """The clock the tokens are judged by (a test moves it instead of waiting an hour)."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class IssuedToken:
    """One installation token and when GitHub said it expires."""

    token: str
    expires_at: datetime


class InstallationTokens:
    """An installation token that is fresh enough for one git command whenever asked.

    Thread-safe (a batch runs four git processes at once, and only one mints). Picklable
    when ``mint`` and ``on_issue`` are: the copy holds no token and mints its own."""

    def __init__(
        self,
        mint: Callable[[], IssuedToken],
        *,
        margin: timedelta = REFRESH_MARGIN,
        on_issue: Callable[[str], Any] | None = None,
    ) -> None:
        self._mint = mint
        self._margin = margin
        self._on_issue = on_issue
        self._lock = threading.Lock()
        self._held: IssuedToken | None = None
        self._issued: list[str] = []

    def current(self) -> str:
        """The token held, or a new one when it has less than the margin to live."""
        with self._lock:
            if self._held is None or utc_now() >= self._held.expires_at - self._margin:
                issued = self._mint()
                if self._on_issue is not None:
                    self._on_issue(issued.token)
                self._issued.append(issued.token)
                self._held = issued
            return self._held.token

    def issued(self) -> tuple[str, ...]:
        """Every token minted so far, newest last (for scrubbing)."""
        with self._lock:
            return tuple(self._issued)

    def __getstate__(self) -> dict[str, Any]:
        return {"mint": self._mint, "margin": self._margin, "on_issue": self._on_issue}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["mint"], margin=state["margin"], on_issue=state["on_issue"])  # type: ignore[misc]


def is_app_connection(password: str | None, extra: dict[str, Any]) -> bool:
    """Whether the provider's hook reads this connection as a GitHub App: as it does, a
    password (a token) wins over the App's extras."""
    return not password and "app_id" in extra and "installation_id" in extra


def mint_installation_token(auth: Any, conn_id: str) -> IssuedToken:
    """A new token for the App installation ``auth`` (PyGithub's ``AppInstallationAuth``,
    as the provider's hook built it, its requester pointing at the connection's API)."""
    from github import GithubException, GithubIntegration
    from requests import RequestException

    doing = f"issuing the GitHub App's installation token ({conn_id} connection)"
    integration = GithubIntegration(**auth.requester.kwargs)
    try:
        issued = integration.get_access_token(
            auth.installation_id, permissions=auth.token_permissions
        )
    except GithubException as exc:
        data = exc.data if isinstance(exc.data, dict) else {}
        message = str(data.get("message") or exc)
        refusal = github_refusal(message) or github_refusal(f"returned error: {exc.status}")
        if refusal is not None:  # as git's refusals are: a bad key or App id is a 401
            raise GitRefused(f"{doing}: GitHub answered {exc.status}: {message}", refusal) from None
        if exc.status == 404:
            raise GitFailed(
                f"{doing}: GitHub knows no installation {auth.installation_id} of App "
                f"{auth.app_id}. Install the App on the organisation, and put the installation's "
                f"id in the {conn_id} connection's extra (installation_id)."
            ) from None
        if exc.status >= 500 or exc.status == 429:
            raise GitUnreachable(f"{doing}: GitHub answered {exc.status}: {message}") from None
        raise GitFailed(f"{doing}: GitHub answered {exc.status}: {message}") from None
    except RequestException as exc:
        raise GitUnreachable(f"{doing}: {type(exc).__name__}: {exc}") from None
    expires_at = issued.expires_at
    if expires_at.tzinfo is None:  # GitHub answers UTC
        expires_at = expires_at.replace(tzinfo=UTC)
    return IssuedToken(issued.token, expires_at)
