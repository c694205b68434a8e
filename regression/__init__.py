"""The regression suite: fixtures rendered in the Lambda image, compared with baselines and an independent oracle."""
