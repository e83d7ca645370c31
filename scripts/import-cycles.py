#!/usr/bin/env python3
"""Lists import cycles between the source files of a Rust crate: file A names an item of
file B (`use crate::…`, `super::…`, or a path in code) and B, directly or through others,
names one of A. A child naming its parent's items counts; `mod x;` declarations do not.
In-file test modules (from `#[cfg(test)]` on) are left out.

Usage: scripts/import-cycles.py SRC_DIR [SRC_DIR …]   (exit 1 when there is a cycle)
"""
import re
import sys
from pathlib import Path


def module_of(root: Path, f: Path) -> tuple:
    rel = f.relative_to(root).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return tuple(parts)


def use_paths(text: str):
    """Every `crate::…`/`super::…`/`self::…` path, with `use` groups expanded."""
    out = []
    for m in re.finditer(r"\buse\s+([^;]+);", text):
        for p in expand(m.group(1).replace("\n", " ")):
            # `use child::…` (a path relative to this module) is `self::child::…`.
            out.append(p if re.match(r"(crate|super|self)::", p) else "self::" + p)
    for m in re.finditer(r"(?<![\w:])((?:crate|super|self)(?:::\w+)+)", text):
        out.append(m.group(1))
    return out


def expand(tree: str):
    tree = re.sub(r"\s+", "", tree)
    if "{" not in tree:
        return [re.sub(r"as\w+$", "", tree)]
    i = tree.index("{")
    prefix, body = tree[:i], tree[i + 1 : tree.rindex("}")]
    items, depth, cur = [], 0, ""
    for ch in body:
        if ch == "," and depth == 0:
            items.append(cur)
            cur = ""
            continue
        depth += ch == "{"
        depth -= ch == "}"
        cur += ch
    items.append(cur)
    out = []
    for it in filter(None, items):
        out += [prefix + p for p in expand(it)]
    return out


def main(dirs):
    found = False
    for d in dirs:
        root = Path(d)
        files = {module_of(root, f): f for f in root.rglob("*.rs")}
        edges = {m: set() for m in files}
        for mod, f in files.items():
            text = f.read_text()
            cut = text.find("#[cfg(test)]")
            if cut >= 0:
                text = text[:cut]
            text = re.sub(r"//[^\n]*", "", text)
            for p in use_paths(text):
                segs = p.split("::")
                if segs[0] == "crate":
                    base, rest = (), segs[1:]
                elif segs[0] in ("super", "self"):
                    base = mod
                    while segs and segs[0] in ("super", "self"):
                        if segs[0] == "super":
                            base = base[:-1]
                        segs = segs[1:]
                    rest = segs
                else:
                    continue
                target = base
                for s in rest:
                    if base + (s,) in files or any(
                        k[: len(base) + 1] == base + (s,) for k in files
                    ):
                        base = base + (s,)
                        target = base
                    else:
                        break
                while target not in files and target:
                    target = target[:-1]
                if target != mod and target in files:
                    edges[mod].add(target)
        # Tarjan's strongly connected components.
        index, low, stack, on, sccs = {}, {}, [], set(), []
        counter = [0]

        def visit(v):
            index[v] = low[v] = counter[0]
            counter[0] += 1
            stack.append(v)
            on.add(v)
            for w in edges[v]:
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
                    sccs.append(comp)

        sys.setrecursionlimit(10000)
        for v in sorted(files):
            if v not in index:
                visit(v)
        for comp in sccs:
            found = True
            names = sorted(str(files[m].relative_to(root)) for m in comp)
            print(f"{d}: cycle of {len(comp)} files: {', '.join(names)}")
        if not sccs:
            print(f"{d}: no import cycle ({len(files)} files)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["src"]))
