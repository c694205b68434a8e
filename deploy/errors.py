"""Errors of the deploy tools: each carries the offending data and a hint of what to do next."""

from __future__ import annotations


class DeployError(Exception):
    """Base of every error the deploy tools raise on purpose; the CLI prints ``ERROR`` and ``hint:`` lines."""

    hint: str = ""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        if hint:
            self.hint = hint


class BudgetExceeded(DeployError):
    """A render would break a Step Functions limit; refused before anything is uploaded."""

    def __init__(self, what: str, actual: int, limit: int, knob: str, hint: str) -> None:
        self.what = what
        self.actual = actual
        self.limit = limit
        self.knob = knob
        super().__init__(f"{what}: {actual:,} is over the limit of {limit:,} (turn {knob})", hint)


class StackError(DeployError):
    """The stack could not be created or updated, or lacks an output."""


class DeployArtifactError(DeployError):
    """The function's zip is missing or does not match its manifest."""


class RemoteRenderFailed(DeployError):
    """The execution ended in another status than SUCCEEDED, or its output is unusable."""

    def __init__(self, execution_arn: str, status: str, error: str = "", cause: str = "", failure: str = "") -> None:
        self.execution_arn = execution_arn
        self.status = status
        self.error = error
        self.cause = cause
        self.failure = failure
        if failure:  # the failed task's state, chunk and error, from the history
            detail = f" in {failure}"
        else:
            detail = f": {error}" if error else ""
            detail += f": {cause}" if cause else ""
        super().__init__(
            " ".join(f"execution {execution_arn} ended {status}{detail}".split()),
            "see the execution's history in the Step Functions console, and the function's log group",
        )


class CodeDrift(DeployError):
    """The deployed function's code is not the built zip."""

    def __init__(self, function_arn: str, deployed: str, built: str, manifest: object) -> None:
        self.function_arn = function_arn
        self.deployed = deployed
        self.built = built
        super().__init__(
            f"{function_arn} runs code with CodeSha256 {deployed}, not the built zip's {built} ({manifest})",
            "deploy the built zip again (nox -s deploy -- --stack NAME), or rebuild what is deployed",
        )


class CostLimitExceeded(DeployError):
    """The render's high estimate is over ``--max-cost``; refused before anything is uploaded."""

    def __init__(self, high_usd: float, max_cost_usd: float) -> None:
        self.high_usd = high_usd
        self.max_cost_usd = max_cost_usd
        super().__init__(
            f"the render may cost up to ${high_usd:.4f}, over --max-cost ${max_cost_usd:.4f}",
            "raise --max-cost, or render fewer frames or at a smaller size",
        )
