"""The local runner: ``python -m runner render`` renders on this machine with the built zip, or on AWS.

It never ships in the zip; it calls the Lambda entry point (`handler.app.handler`) in worker
processes, and `deploy.remote` for ``--remote``.
"""
