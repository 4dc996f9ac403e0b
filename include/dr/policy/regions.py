"""Which country each AWS region stores data in, and the residency verdict.

The policy asks for backups "to a separate region in the same country". AWS
publishes region locations but no machine-readable country code, so the table
lives here. A region missing from the table is refused rather than guessed.

A cross-border pair holds only under a residency exception approved for that very
pair: moving either region leaves the policy loadable, but the verdict fails,
naming the pair that was approved and the pair now configured, until the new
pair is approved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

# ISO 3166-1 alpha-2 country of each commercial, GovCloud and China region.
REGION_COUNTRY: dict[str, str] = {
    "af-south-1": "ZA",
    "ap-east-1": "HK",
    "ap-east-2": "TW",
    "ap-northeast-1": "JP",
    "ap-northeast-2": "KR",
    "ap-northeast-3": "JP",
    "ap-south-1": "IN",
    "ap-south-2": "IN",
    "ap-southeast-1": "SG",
    "ap-southeast-2": "AU",
    "ap-southeast-3": "ID",
    "ap-southeast-4": "AU",
    "ap-southeast-5": "MY",
    "ap-southeast-6": "NZ",
    "ap-southeast-7": "TH",
    "ca-central-1": "CA",
    "ca-west-1": "CA",
    "cn-north-1": "CN",
    "cn-northwest-1": "CN",
    "eu-central-1": "DE",
    "eu-central-2": "CH",
    "eu-north-1": "SE",
    "eu-south-1": "IT",
    "eu-south-2": "ES",
    "eu-west-1": "IE",
    "eu-west-2": "GB",
    "eu-west-3": "FR",
    "il-central-1": "IL",
    "me-central-1": "AE",
    "me-south-1": "BH",
    "mx-central-1": "MX",
    "sa-east-1": "BR",
    "us-east-1": "US",
    "us-east-2": "US",
    "us-gov-east-1": "US",
    "us-gov-west-1": "US",
    "us-west-1": "US",
    "us-west-2": "US",
}


def country_of(region: str) -> str:
    """Return the country code of ``region``; raise ``KeyError`` for an unknown one."""
    return REGION_COUNTRY[region]


@dataclass(frozen=True)
class ResidencyApproval:
    """A residency exception as approved: for one region pair, by someone, on a day."""

    production_region: str
    dr_region: str
    reason: str
    approved_by: str
    approved_on: date

    @property
    def pair(self) -> str:
        return f"{self.production_region} -> {self.dr_region}"

    @property
    def signature(self) -> str:
        return f"approved by {self.approved_by} on {self.approved_on.isoformat()}"


@dataclass(frozen=True)
class ResidencyVerdict:
    """Whether the DR region keeps data in the production region's country, or a residency
    exception approved for exactly this region pair covers it."""

    production_region: str
    dr_region: str
    production_country: str
    dr_country: str
    same_country: bool
    approval: ResidencyApproval | None

    @property
    def pair(self) -> str:
        return f"{self.production_region} -> {self.dr_region}"

    @property
    def approved_for_this_pair(self) -> bool:
        return self.approval is not None and self.approval.pair == self.pair

    @property
    def holds(self) -> bool:
        """Same country, or across a border under an approval of the pair as configured."""
        return self.same_country or self.approved_for_this_pair

    @property
    def exception_reason(self) -> str | None:
        return self.approval.reason if self.approval else None

    @property
    def problem(self) -> str | None:
        """Why the verdict fails, in one clause; None when it holds."""
        if self.holds:
            return None
        if self.approval is None:
            return f"{self.pair} crosses a border and no residency exception is recorded"
        return (
            f"the residency exception was approved for {self.approval.pair}, "
            f"but {self.pair} is configured"
        )

    @property
    def fix(self) -> str:
        """What to do when the verdict fails; empty when it holds."""
        if self.holds:
            return ""
        back = []
        if self.approval and self.approval.production_region != self.production_region:
            back.append(f"regions.production back to {self.approval.production_region}")
        if self.approval and self.approval.dr_region != self.dr_region:
            back.append(f"regions.dr back to {self.approval.dr_region}")
        undo = f", or set {' and '.join(back)}" if back else ""
        return (
            f"have the Compliance Team approve {self.pair} and record it in "
            "regions.residency_exception (production_region, dr_region, reason, approved_by, "
            f"approved_on){undo}"
        )

    @property
    def statement(self) -> str:
        """One sentence for the compliance view and the evidence."""
        route = (
            f"Backups are copied from {self.production_region} ({self.production_country}) "
            f"to {self.dr_region} ({self.dr_country})"
        )
        if self.same_country:
            return f"{route}, inside one country as the policy asks."
        if self.approval is None:
            return f"{route}, across a border with no residency exception: {self.fix}."
        if not self.approved_for_this_pair:
            return (
                f"{route}, across a border, but the residency exception "
                f"({self.approval.signature}) covers {self.approval.pair} only, not {self.pair}: "
                f"{self.fix}."
            )
        return (
            f"{route}, across a border under a residency exception {self.approval.signature}: "
            f"{self.approval.reason}"
        )

    def as_dict(self) -> dict[str, Any]:
        """The verdict as evidence: the pair, whether it holds, and the approval it rests on."""
        approval = self.approval
        return {
            "production_region": self.production_region,
            "dr_region": self.dr_region,
            "same_country": self.same_country,
            "holds": self.holds,
            "statement": self.statement,
            "fix": self.fix,
            "approval": {
                "production_region": approval.production_region,
                "dr_region": approval.dr_region,
                "approved_by": approval.approved_by,
                "approved_on": approval.approved_on.isoformat(),
                "reason": approval.reason,
                "covers_configured_pair": self.approved_for_this_pair,
            }
            if approval
            else None,
        }


def judge_residency(
    production_region: str, dr_region: str, approval: ResidencyApproval | None
) -> ResidencyVerdict:
    """Judge the region pair: it holds inside one country, or across a border when the
    exception was approved for this very pair."""
    return ResidencyVerdict(
        production_region=production_region,
        dr_region=dr_region,
        production_country=country_of(production_region),
        dr_country=country_of(dr_region),
        same_country=country_of(production_region) == country_of(dr_region),
        approval=approval,
    )
