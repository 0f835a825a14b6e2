"""`python -m benchmarks`: run every benchmark (see benchmarks/run.py and benchmarks/README.md).

Lambda worker processes are started with the spawn method, which imports this module again
under another name: everything happens inside the main guard.
"""

if __name__ == "__main__":
    import os
    import sys

    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    from benchmarks.run import main

    sys.exit(main())
