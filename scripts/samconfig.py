#!/usr/bin/env python3
"""Reads samconfig.toml as `sam` does, for the scripts (Python 3.11+: tomllib).

    samconfig.py stack-name ENV            the config-env's stack_name
    samconfig.py parameter-overrides ENV   its deploy parameter_overrides, one Name=Value per
                                           line (sam takes a string of words or a list)
"""
import shlex
import sys
import tomllib
from pathlib import Path

config = tomllib.loads((Path(__file__).resolve().parents[1] / "samconfig.toml").read_text())
what, env = sys.argv[1], sys.argv[2]
if env not in config:
    sys.exit(f"samconfig.toml has no config-env '{env}' (it has: {', '.join(sorted(config))})")
if what == "stack-name":
    print(config[env]["global"]["parameters"]["stack_name"])
elif what == "parameter-overrides":
    overrides = config[env].get("deploy", {}).get("parameters", {}).get("parameter_overrides", [])
    for word in shlex.split(overrides) if isinstance(overrides, str) else overrides:
        print(word)
else:
    sys.exit(f"samconfig.py: unknown question '{what}'")
