"""The `deploy`, `update` and `destroy` commands of neptune-ml-local: synthesis, parameters, progress, Ctrl-C, the background API."""
