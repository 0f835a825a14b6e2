"""Construct tests synthesize in-process; jsii's Node.js end-of-life banner is noise here."""

from __future__ import annotations

import os

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "18,20")
