"""Regression suite: fixtures rendered in the Lambda image, compared with baselines."""
