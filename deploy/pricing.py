"""What AWS charges for the parts of a render: one table, with the date it was read, overridable.

Figures are on-demand list prices in USD for US East (N. Virginia), from the
public pricing pages of Lambda, Step Functions and S3, read on `READ_ON`.
Other regions differ by a few per cent; pass ``--prices FILE`` (a JSON object
with any of the keys of `Prices`) to use your own, e.g. your region's or your
negotiated rates. The first tier of each price is used: the free tier and
volume tiers are left out, so an estimate errs high.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

from deploy.errors import DeployError

READ_ON = "2026-12-04"
REGION = "us-east-1"


@dataclass(frozen=True)
class Prices:
    read_on: str = READ_ON
    region: str = REGION
    lambda_gb_second_x86_64: float = 0.0000166667
    lambda_gb_second_arm64: float = 0.0000133334
    lambda_request: float = 0.20 / 1_000_000
    lambda_ephemeral_gb_second: float = 0.0000000309
    """Per GB-second of /tmp above the free 512 MB."""
    sfn_state_transition: float = 0.025 / 1_000
    """Standard workflows."""
    s3_put: float = 0.005 / 1_000
    """PUT, COPY, POST and LIST requests."""
    s3_get: float = 0.0004 / 1_000

    def lambda_gb_second(self, architecture: str) -> float:
        return self.lambda_gb_second_arm64 if architecture == "arm64" else self.lambda_gb_second_x86_64


DEFAULT_PRICES = Prices()


def load_prices(path: Path | None) -> Prices:
    """The default table, with what ``path`` overrides."""
    if path is None:
        return DEFAULT_PRICES
    hint = f"a JSON object with some of: {', '.join(field.name for field in dataclasses.fields(Prices))}"
    try:
        overrides = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise DeployError(f"--prices {path}: {error}", hint) from None
    names = {field.name: field.type for field in dataclasses.fields(Prices)}
    if not isinstance(overrides, dict) or not set(overrides) <= set(names):
        unknown = sorted(set(overrides) - set(names)) if isinstance(overrides, dict) else []
        raise DeployError(f"--prices {path}: not a table of prices{f' (unknown: {unknown})' if unknown else ''}", hint)
    for name, value in overrides.items():
        text_field = name in ("read_on", "region")
        if text_field != isinstance(value, str) or (not text_field and not isinstance(value, int | float)):
            raise DeployError(f"--prices {path}: {name} must be {'text' if text_field else 'a number'}", hint)
        if not text_field and (isinstance(value, bool) or value < 0):
            raise DeployError(f"--prices {path}: {name} must be a price of zero or more", hint)
    return dataclasses.replace(DEFAULT_PRICES, **overrides)
