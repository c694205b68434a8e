"""Build, gate and verify the renderzip Lambda artifact from exact lockfiles."""
