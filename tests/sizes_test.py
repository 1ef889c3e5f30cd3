#!/usr/bin/env python3
"""Fails when a source file or a function grows past its size without a
reason written at its top (issue 10: about 500 lines a file, 60 a function).

A file over 550 lines needs "Longer than 500 lines on purpose" in its first
20 lines; a function body over 70 lines needs "Longer than 60 lines on
purpose" in the comment just above it. The margins keep "about" from
failing the build over a few lines. Class bodies are not functions.
"""
import os
import re
import sys

LAYERS = ("net", "commands", "config", "health", "router", "proxy")
FILE_LIMIT, FILE_REASON = 550, "Longer than 500 lines on purpose"
FUNCTION_LIMIT, FUNCTION_REASON = 70, "Longer than 60 lines on purpose"
# A class body, after any template header (a function template is checked).
NOT_A_FUNCTION = re.compile(r"^\s*(template\s*<[^{]*?>\s*)?(class|struct|enum|union)\b")


def code_only(text):
    """The text with comments, strings and characters blanked, lines kept."""
    text = re.sub(r"/\*.*?\*/", lambda m: re.sub(r"[^\n]", " ", m.group(0)), text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r'R"\((.*?)\)"', lambda m: re.sub(r"[^\n]", " ", m.group(0)), text, flags=re.S)
    text = re.sub(r'"(\\.|[^"\\\n])*"', '""', text)
    return re.sub(r"'(\\.|[^'\\\n])*'", "''", text)


def long_functions(text):
    """(first line, length) of each top-level body over the limit."""
    lines = code_only(text).split("\n")
    depth, namespaces, start, found = 0, [], None, []
    for number, line in enumerate(lines):
        for char in line:
            if char == "{":
                if depth == len(namespaces) and start is None:
                    if re.match(r"^\s*(namespace|extern \"C\")", line):
                        namespaces.append(depth)
                        depth += 1
                        continue
                    start = number
                depth += 1
            elif char == "}":
                depth -= 1
                if start is None and namespaces and depth == namespaces[-1]:
                    namespaces.pop()
                elif start is not None and depth == len(namespaces):
                    head = start
                    while head > 0 and lines[head - 1].strip() and not re.search(r"[;{}]\s*$", lines[head - 1]):
                        head -= 1  # back to the first line of a wrapped signature
                    signature = " ".join(lines[head : start + 1])
                    if number - start + 1 > FUNCTION_LIMIT and not NOT_A_FUNCTION.match(signature):
                        found.append((head, number - start + 1))
                    start = None
    return found


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    problems = []
    for layer in LAYERS:
        for folder, _, files in os.walk(os.path.join(root, layer)):
            for name in sorted(files):
                if not name.endswith((".cc", ".h")):
                    continue
                path = os.path.join(folder, name)
                shown = os.path.relpath(path, root)
                with open(path, encoding="utf-8") as source:
                    text = source.read()
                lines = text.split("\n")
                if len(lines) > FILE_LIMIT and FILE_REASON not in "\n".join(lines[:20]):
                    problems.append(f"{shown}: {len(lines)} lines and no '{FILE_REASON}' at its top")
                for head, length in long_functions(text):
                    above = "\n".join(lines[max(0, head - 12) : head])
                    if FUNCTION_REASON not in above:
                        problems.append(
                            f"{shown}:{head + 1}: a {length}-line function and no "
                            f"'{FUNCTION_REASON}' above it"
                        )
    for problem in problems:
        print(problem)
    print(f"sizes: {len(problems)} file(s) or function(s) too long without a reason")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
