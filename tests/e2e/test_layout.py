"""test_layout.py - the source tree keeps the shape docs/architecture.md draws.

Checked on the real build (the object files of $AS_BUILD_DIR) and on the
sources:

  1. No dependency cycle between two source files, nor between two folders
     of src/: a file depends on another when it includes its header or
     calls a function the other defines (read from the object files with
     nm, so a prototype copied into a .c still counts).
  2. The module boundary: src/inputs/ and src/sinks/ include only the
     public headers (alertsink/...) and headers of their own folder.
  3. The core names no sink: outside src/sinks/, src/cli/ and the tests,
     no code (comments aside) says whatsapp, wamessage, email or smtp.
  4. Every .c that others call has its own header: no prototype of another
     file's function is declared in a .c.

Run by itself (python3 tests/e2e/test_layout.py --report) it also prints the
lines per folder and the longest functions, as the closing notes quote them.
"""
import os
import re
import subprocess
import sys

SOURCE = os.environ.get("AS_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("AS_BUILD_DIR") or os.path.join(SOURCE, "build")
SRC = os.path.join(SOURCE, "src")
SINK_WORDS = re.compile(r"whatsapp|wamessage|email|smtp", re.I)


def sources():
    out = []
    for root, _, files in os.walk(SRC):
        for f in files:
            if f.endswith((".c", ".h")):
                out.append(os.path.relpath(os.path.join(root, f), SRC))
    return sorted(out)


def folder(rel):
    """The stage folder of a file: app, lib, ..., sinks/whatsapp."""
    parts = rel.split("/")
    if parts[0] in ("sinks",) and len(parts) > 2:
        return "/".join(parts[:2])
    return parts[0]


def unit(rel):
    """A .c and its .h are one unit."""
    return rel[:-2]


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def includes(rel):
    with open(os.path.join(SRC, rel), encoding="utf-8") as f:
        return re.findall(r'^#include "([^"]+)"', f.read(), re.M)


def include_edges():
    edges = {}
    for rel in sources():
        for h in includes(rel):
            if h.startswith("alertsink/"):
                continue
            target = h if os.path.exists(os.path.join(SRC, h)) else \
                os.path.join(os.path.dirname(rel), h)
            if os.path.exists(os.path.join(SRC, target)):
                edges.setdefault(unit(rel), set()).add(unit(os.path.normpath(target)))
    return edges


def object_files():
    objs = {}
    for root, _, files in os.walk(os.path.join(BUILD, "CMakeFiles")):
        for f in files:
            if not f.endswith(".c.o"):
                continue
            path = os.path.join(root, f)
            m = re.search(r"\.dir/src/(.+)\.c\.o$", path.replace(os.sep, "/"))
            # An object whose source is gone (a build dir older than a
            # move) says nothing about the tree.
            if m and os.path.exists(os.path.join(SRC, m.group(1) + ".c")):
                objs[m.group(1)] = path
    return objs


def symbol_edges():
    defined, undefined = {}, {}
    for u, path in object_files().items():
        out = subprocess.run(["nm", path], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            f = line.split()
            if len(f) == 3 and f[1] in "TDBR":
                defined[f[2]] = u
            elif len(f) == 2 and f[0] == "U":
                undefined.setdefault(u, set()).add(f[1])
    edges = {}
    for u, syms in undefined.items():
        for s in syms:
            if s in defined and defined[s] != u:
                edges.setdefault(u, set()).add(defined[s])
    return edges


def sccs(edges):
    """Strongly connected components with more than one node (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]
    nodes = set(edges) | {v for vs in edges.values() for v in vs}

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return out


def merged_edges():
    edges = {}
    for e in (include_edges(), symbol_edges()):
        for u, vs in e.items():
            edges.setdefault(u, set()).update(vs)
    return edges


def folder_edges(edges):
    out = {}
    for u, vs in edges.items():
        for v in vs:
            if folder(u) != folder(v):
                out.setdefault(folder(u), set()).add(folder(v))
    return out


def boundary_violations():
    bad = []
    for rel in sources():
        if not rel.startswith(("inputs/", "sinks/")):
            continue
        for h in includes(rel):
            if h.startswith("alertsink/"):
                continue
            if os.path.exists(os.path.join(SRC, os.path.dirname(rel), h)):
                continue
            if h.startswith(os.path.dirname(rel) + "/") and os.path.exists(os.path.join(SRC, h)):
                continue
            bad.append("%s includes %s" % (rel, h))
    return bad


def sink_names():
    bad = []
    for rel in sources():
        if rel.startswith(("sinks/", "cli/")):
            continue
        with open(os.path.join(SRC, rel), encoding="utf-8") as f:
            for no, line in enumerate(strip_comments(f.read()).splitlines(), 1):
                if SINK_WORDS.search(line):
                    bad.append("src/%s:%d: %s" % (rel, no, line.strip()))
    return bad


def copied_prototypes():
    """Prototypes of non-static functions written in a .c (not its header)."""
    bad = []
    proto = re.compile(r"^(?!static\b)(?:[A-Za-z_][\w \*]*?\b)(as_\w+)\([^;{]*\);\s*$", re.M)
    for rel in sources():
        if not rel.endswith(".c"):
            continue
        with open(os.path.join(SRC, rel), encoding="utf-8") as f:
            text = strip_comments(f.read())
        for m in proto.finditer(text):
            if not m.group(0).lstrip().startswith(("return", "typedef", "extern const")):
                bad.append("src/%s: %s" % (rel, m.group(0).strip()))
    return bad


def report():
    lines = {}
    for rel in sources():
        with open(os.path.join(SRC, rel), encoding="utf-8") as f:
            lines[folder(rel)] = lines.get(folder(rel), 0) + sum(1 for _ in f)
    print("lines per folder of src/:")
    for k in sorted(lines):
        print("  %-18s %6d" % (k, lines[k]))
    funcs = []
    for rel in sources():
        if not rel.endswith(".c"):
            continue
        with open(os.path.join(SRC, rel), encoding="utf-8") as f:
            text = f.read().splitlines()
        start = None
        for i, line in enumerate(text):
            if line == "{" and i > 0:
                start = i
                m = re.search(r"(\w+)\(", text[i - 1]) or re.search(r"(\w+)\(", text[i - 2])
                name = m.group(1) if m else "?"
            elif line == "}" and start is not None:
                funcs.append((i - start + 1, "src/%s:%d %s" % (rel, start, name)))
                start = None
    funcs.sort(reverse=True)
    print("longest functions (lines):")
    for n, where in funcs[:5]:
        print("  %4d %s" % (n, where))


def main():
    problems = []
    edges = merged_edges()
    for c in sccs(edges):
        problems.append("dependency cycle between files: " + " -> ".join(c))
    for c in sccs(folder_edges(edges)):
        problems.append("dependency cycle between folders: " + " -> ".join(c))
    problems += ["module boundary: " + b for b in boundary_violations()]
    problems += ["sink named outside src/sinks and src/cli: " + b for b in sink_names()]
    problems += ["prototype copied into a .c: " + b for b in copied_prototypes()]
    if "--report" in sys.argv:
        report()
        fe = folder_edges(edges)
        print("folder dependencies:")
        for k in sorted(fe):
            print("  %-16s -> %s" % (k, ", ".join(sorted(fe[k]))))
    for p in problems:
        print(p)
    if problems:
        print("FAIL: %d problem(s)" % len(problems))
        return 1
    print("ok: no cycles, the module boundary holds, the core names no sink")
    return 0


if __name__ == "__main__":
    sys.exit(main())
