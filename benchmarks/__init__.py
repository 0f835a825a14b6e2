"""Benchmarks of the handler, its asset and the construct's synthesis; run with `python -m benchmarks`.

Importing this package imports nothing else: Lambda worker processes import it before the
handler's asset is on their path.
"""
