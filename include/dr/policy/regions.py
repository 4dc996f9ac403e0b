"""Which country each AWS region stores data in, and the residency verdict.

The policy asks for backups "to a separate region in the same country". AWS
publishes region locations but no machine-readable country code, so the table
lives here. A region missing from the table is refused rather than guessed.
"""

from __future__ import annotations

from dataclasses import dataclass

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
class ResidencyVerdict:
    """Whether the DR region keeps data in the production region's country."""

    production_region: str
    dr_region: str
    production_country: str
    dr_country: str
    same_country: bool
    exception_reason: str | None

    @property
    def statement(self) -> str:
        """One sentence for the compliance view and the evidence."""
        route = (
            f"Backups are copied from {self.production_region} ({self.production_country}) "
            f"to {self.dr_region} ({self.dr_country})"
        )
        if self.same_country:
            return f"{route}, inside one country as the policy asks."
        return f"{route}, across a border under a recorded exception: {self.exception_reason}"


def judge_residency(
    production_region: str, dr_region: str, exception_reason: str | None
) -> ResidencyVerdict:
    """Judge the region pair; the caller refuses a cross-border pair without a reason."""
    return ResidencyVerdict(
        production_region=production_region,
        dr_region=dr_region,
        production_country=country_of(production_region),
        dr_country=country_of(dr_region),
        same_country=country_of(production_region) == country_of(dr_region),
        exception_reason=exception_reason,
    )
