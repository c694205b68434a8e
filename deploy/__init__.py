"""Deploying renderzip to AWS and rendering there: state machine, template, stack and remote renders."""

from deploy.errors import BudgetExceeded, DeployError, RemoteRenderFailed, StackError
from deploy.retry import RetryPolicy, run_with_retry

__all__ = ["BudgetExceeded", "DeployError", "RemoteRenderFailed", "RetryPolicy", "StackError", "run_with_retry"]
