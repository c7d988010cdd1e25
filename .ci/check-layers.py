#!/usr/bin/env python3
"""Checks the layering of src/ that src/README.md describes.

    python3 .ci/check-layers.py [SRC_DIR]

Each folder of src/ is a layer; a file may include headers of, and use
functions or data defined in, its own layer and the layers below it only.
The pure layers include no <mpi.h>. No two files call each other in a loop
(directly or through others). Exit status 1 and one line per violation when
the rule is broken; a short summary otherwise.

What counts as a use: a non-static function or object defined in a .c file,
named in another .c or .h file (comments and strings removed first).
"""
import os
import re
import sys

# Bottom to top. Equal rank: neither may use the other.
LAYERS = ["base", "grid", "codec", "format", "storage", "parallel", "engine", "cli", "fortran"]
SAME_RANK = {"fortran": "cli"}  # the Fortran binding sits beside the tool
PURE = {"base", "grid", "codec", "format"}

COMMENT_OR_STRING = re.compile(
    r'//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'', re.S)
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)
# A definition at file level: a line that starts a declaration (not static,
# not indented) whose name is followed by a parameter list and a body.
FUNC_DEF = re.compile(
    r'^(?!static\b)(?:[A-Za-z_][\w\s\*]*?[\s\*])([A-Za-z_]\w*)\s*\(([^;{}()]|\([^()]*\))*\)\s*\{',
    re.M)
DATA_DEF = re.compile(r'^(?!static\b)(?:const\s+)?[A-Za-z_]\w*\s+([A-Za-z_]\w*)\s*(?:\[[^\]]*\])?\s*=', re.M)
IDENT = re.compile(r'\b[A-Za-z_]\w*\b')


def strip(text):
    """Removes comments and string/char literals (keeping #include paths)."""
    incs = INCLUDE.findall(text)
    body = COMMENT_OR_STRING.sub(lambda m: " " if m.group(0).startswith("/") else '""', text)
    return body, incs


def layer_of(rel):
    top = rel.split(os.sep)[0]
    return top if top in LAYERS else None


def main():
    src = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                          os.path.join(os.path.dirname(__file__), "..", "src"))
    files = {}
    for root, _, names in os.walk(src):
        for n in names:
            if n.endswith((".c", ".h")):
                rel = os.path.relpath(os.path.join(root, n), src)
                with open(os.path.join(root, n), encoding="utf-8") as f:
                    files[rel] = f.read()
    problems = []
    stripped, includes = {}, {}
    for rel, text in files.items():
        stripped[rel], includes[rel] = strip(text)
        if layer_of(rel) is None:
            problems.append(f"{rel}: not inside a layer folder ({', '.join(LAYERS)})")

    rank = {name: i for i, name in enumerate(LAYERS)}
    for name, twin in SAME_RANK.items():
        rank[name] = rank[twin]

    def above(a, b):
        """Whether layer b lies above layer a (or beside it, at another folder)."""
        return a != b and rank[b] >= rank[a]

    # Includes: the header's layer must not lie above the including file's.
    for rel, incs in includes.items():
        lay = layer_of(rel)
        for kind, path in incs:
            if kind == "<":
                if path == "mpi.h" and lay in PURE:
                    problems.append(f"{rel}: includes <mpi.h> in the pure layer {lay}/")
                continue
            if path == "pzarr.h":
                continue
            target = os.path.normpath(os.path.join(os.path.dirname(rel), path))
            if target not in files:
                target = os.path.normpath(path)
            tl = layer_of(target) if target in files else None
            if tl is None:
                problems.append(f"{rel}: includes \"{path}\", which is not a file of src/")
            elif above(lay, tl):
                problems.append(f"{rel}: includes {target} from the {tl}/ layer, above {lay}/")

    # Definitions: symbol -> defining .c file.
    defined = {}
    for rel, body in stripped.items():
        if not rel.endswith(".c"):
            continue
        for m in FUNC_DEF.finditer(body):
            defined.setdefault(m.group(1), rel)
        for m in DATA_DEF.finditer(body):
            defined.setdefault(m.group(1), rel)

    # Uses between files.
    edges = {rel: set() for rel in files}
    for rel, body in stripped.items():
        for name in set(IDENT.findall(body)):
            owner = defined.get(name)
            if owner and owner != rel:
                edges[rel].add((owner, name))
    for rel, outs in edges.items():
        lay = layer_of(rel)
        for owner, name in sorted(outs):
            ol = layer_of(owner)
            if lay and ol and above(lay, ol):
                problems.append(f"{rel}: uses {name} of {owner}, in the {ol}/ layer above {lay}/")

    # Loops among .c files (headers only declare).
    graph = {r: sorted({o for o, _ in outs if o.endswith(".c")})
             for r, outs in edges.items() if r.endswith(".c")}
    for comp in strongly_connected(graph):
        if len(comp) > 1:
            problems.append("files that call each other in a loop: " + " <-> ".join(sorted(comp)))

    if problems:
        for p in problems:
            print("check-layers: " + p)
        print(f"check-layers: FAILED, {len(problems)} problem(s); the rule is in src/README.md")
        return 1
    nuses = sum(len({o for o, _ in outs}) for outs in edges.values())
    print(f"check-layers: ok: {len(files)} files in {len(LAYERS)} layers, {len(defined)} "
          f"shared symbols, {nuses} file-to-file uses, none upward, no loops")
    return 0


def strongly_connected(graph):
    """Tarjan's algorithm, iterative."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(graph[start]))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on.add(start)
        while work:
            v, it = work[-1]
            nxt = next(it, None)
            if nxt is not None:
                if nxt not in graph:
                    continue
                if nxt not in index:
                    index[nxt] = low[nxt] = counter[0]
                    counter[0] += 1
                    stack.append(nxt)
                    on.add(nxt)
                    work.append((nxt, iter(graph[nxt])))
                elif nxt in on:
                    low[v] = min(low[v], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                out.append(comp)
    return out


if __name__ == "__main__":
    sys.exit(main())
