#!/usr/bin/env python3
"""Fails when the #include "..." lines of src/ and include/ form a cycle (docs/ARCHITECTURE.md:
a file includes only the headers of the layers below it). Prints the cycle, or a one-line count."""
import os
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
files = {}
for top in ("src", "include"):
    for d, _, names in os.walk(os.path.join(root, top)):
        for n in names:
            if n.endswith((".c", ".h", ".cu")):
                p = os.path.join(d, n)
                files[p] = re.findall(r'#include "([^"]+)"', open(p, errors="replace").read())


def resolve(name, src):
    for base in ("src", "include"):
        c = os.path.join(root, base, name)
        if os.path.exists(c):
            return os.path.normpath(c)
    c = os.path.join(os.path.dirname(src), name)
    return os.path.normpath(c) if os.path.exists(c) else None


graph = {os.path.normpath(p): [r for r in (resolve(i, p) for i in inc) if r] for p, inc in files.items()}
state, cycles = {}, []


def visit(u, stack):
    state[u] = 1
    stack.append(u)
    for v in graph.get(u, []):
        if state.get(v) == 1:
            cycles.append(stack[stack.index(v):] + [v])
        elif not state.get(v):
            visit(v, stack)
    stack.pop()
    state[u] = 2


for u in sorted(graph):
    if not state.get(u):
        visit(u, [])
for c in cycles:
    print("include cycle: " + " -> ".join(os.path.relpath(p, root) for p in c))
print(f"include cycles: {len(cycles)} among {len(graph)} files")
sys.exit(1 if cycles else 0)
