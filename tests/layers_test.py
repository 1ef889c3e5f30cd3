#!/usr/bin/env python3
"""Fails when a source file includes a header from a layer above its own.

The layers (DESIGN.md says why), each using only those listed before it:
    net, commands  <-  config  <-  health  <-  router  <-  proxy
`commands` is what Redis commands are (the table from COMMAND, how Redis
reads names) and which the proxy refuses: the config loader checks
routing.allow_commands against it, so it sits under config. Tests, fuzz
targets and benchmarks may use any layer.
"""
import os
import re
import sys

ALLOWED = {
    "net": {"net"},
    "commands": {"commands"},
    "config": {"net", "commands", "config"},
    "health": {"net", "commands", "config", "health"},
    "router": {"commands", "config", "health", "router"},
    "proxy": {"net", "commands", "config", "health", "router", "proxy"},
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/[^"]+"', re.M)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    problems = []
    for layer, allowed in ALLOWED.items():
        for folder, _, files in os.walk(os.path.join(root, layer)):
            for name in sorted(files):
                if not name.endswith((".h", ".cc", ".inc")):
                    continue
                path = os.path.join(folder, name)
                with open(path, encoding="utf-8", errors="replace") as source:
                    for used in INCLUDE.findall(source.read()):
                        if used in ALLOWED and used not in allowed:
                            problems.append(f"{os.path.relpath(path, root)} includes {used}/: "
                                            f"{layer} may use only {', '.join(sorted(allowed))}")
    for problem in problems:
        print(problem)
    print(f"layers: {len(problems)} include(s) against the direction")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
