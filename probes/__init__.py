"""Run commands in a Lambda image, and build a stand-in image where no registry is reachable."""

from probes.errors import ProbeError
from probes.images import STANDIN, resolve_image
from probes.runner import RunResult, RunSpec, run_in_image
from probes.standin import Standin, StandinRecipe, ensure_standin

__all__ = [
    "STANDIN",
    "ProbeError",
    "RunResult",
    "RunSpec",
    "Standin",
    "StandinRecipe",
    "ensure_standin",
    "resolve_image",
    "run_in_image",
]
