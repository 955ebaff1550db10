"""Working trees from bare git mirrors, at the tag or commit a PlatformIO platform asks for.

The mirrors (``<mirrors>/<owner>+<name>/repo``) may be partial clones: blobs left out of the
mirror (large binaries such as a variant's ``libmbed.a``) are skipped and listed in the tree's
marker file instead of being fetched. Submodules are exported from their own mirrors at the
commit the superproject records, when that mirror exists.

    python tools/real_boards/checkout.py --mirrors /work/.mirror --repos /work/real-repos owner/name@ref ...
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

MARKER = ".real-boards-checkout.json"
DEFAULT_MIRRORS = Path("/work/.mirror")
_GIT_ENV = {**os.environ, "GIT_NO_LAZY_FETCH": "1", "GIT_TERMINAL_PROMPT": "0"}


@dataclass
class Tree:
    """One exported working tree and what it holds."""

    repo: str  # owner/name
    ref: str  # the tag, branch or commit asked for
    commit: str
    path: Path
    missing: list[str] = field(default_factory=list)  # blobs absent from the mirror
    submodules: dict[str, dict[str, str]] = field(default_factory=dict)  # path -> {repo, commit, status}

    def as_dict(self) -> dict[str, object]:
        return {
            "repo": self.repo,
            "ref": self.ref,
            "commit": self.commit,
            "path": str(self.path),
            "missing": self.missing,
            "submodules": self.submodules,
        }


def mirror_dir(mirrors: Path, repo: str) -> Path:
    return mirrors / repo.replace("/", "+") / "repo"


def _git(git_dir: Path, *args: str, data: bytes | None = None) -> bytes:
    r = subprocess.run(["git", f"--git-dir={git_dir}", *args], input=data, capture_output=True, env=_GIT_ENV)
    if r.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} in {git_dir}: {r.stderr.decode(errors='replace').strip()}")
    return r.stdout


def resolve(git_dir: Path, ref: str) -> str:
    return _git(git_dir, "rev-parse", "--verify", f"{ref}^{{commit}}").decode().strip()


def _list_tree(git_dir: Path, commit: str) -> list[tuple[str, str, str]]:
    """(mode, sha, path) of every entry, recursively (submodules appear as mode 160000)."""
    out = _git(git_dir, "ls-tree", "-r", "-z", "--full-tree", commit)
    entries = []
    for rec in out.split(b"\0"):
        if not rec:
            continue
        meta, path = rec.split(b"\t", 1)
        mode, _kind, sha = meta.decode().split()
        entries.append((mode, sha, path.decode()))
    return entries


def _present(git_dir: Path, shas: list[str]) -> set[str]:
    out = _git(git_dir, "cat-file", "--batch-check", data=("\n".join(shas) + "\n").encode())
    return {line.split()[0] for line in out.decode().splitlines() if not line.endswith("missing")}


def _write_blobs(git_dir: Path, dest: Path, blobs: list[tuple[str, str, str]]) -> None:
    proc = subprocess.Popen(["git", f"--git-dir={git_dir}", "cat-file", "--batch"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, env=_GIT_ENV)
    assert proc.stdin is not None and proc.stdout is not None
    for mode, sha, path in blobs:
        proc.stdin.write(f"{sha}\n".encode())
        proc.stdin.flush()
        header = proc.stdout.readline().split()
        size = int(header[2])
        content = proc.stdout.read(size)
        proc.stdout.read(1)  # the newline after each object
        target = dest / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if mode == "120000":
            target.symlink_to(content.decode())
        else:
            target.write_bytes(content)
            if mode == "100755":
                target.chmod(0o755)
    proc.stdin.close()
    proc.wait()


def _gitmodules(git_dir: Path, commit: str) -> dict[str, str]:
    """Submodule path -> owner/name (from a GitHub URL in .gitmodules)."""
    try:
        text = _git(git_dir, "show", f"{commit}:.gitmodules").decode()
    except RuntimeError:
        return {}
    result, path = {}, None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("path"):
            path = line.split("=", 1)[1].strip()
        elif line.startswith("url") and path:
            m = re.search(r"github\.com[:/]([^/]+)/([^/\s]+?)(?:\.git)?$", line.split("=", 1)[1].strip())
            if m:
                result[path] = f"{m.group(1)}/{m.group(2)}"
    return result


def _export(git_dir: Path, commit: str, dest: Path, mirrors: Path, prefix: str, tree: Tree) -> None:
    entries = _list_tree(git_dir, commit)
    blobs = [e for e in entries if e[0] != "160000"]
    present = _present(git_dir, [sha for _, sha, _ in blobs]) if blobs else set()
    tree.missing += [prefix + path for _, sha, path in blobs if sha not in present]
    _write_blobs(git_dir, dest, [e for e in blobs if e[1] in present])
    modules = _gitmodules(git_dir, commit)
    for _, sha, path in (e for e in entries if e[0] == "160000"):
        repo = modules.get(path, "")
        sub_git = mirror_dir(mirrors, repo) if repo else None
        status = "exported"
        if sub_git is None or not sub_git.is_dir():
            status = "no mirror"
        else:
            try:
                _export(sub_git, sha, dest / path, mirrors, f"{prefix}{path}/", tree)
            except RuntimeError as exc:
                status = f"failed: {exc}"
        tree.submodules[prefix + path] = {"repo": repo, "commit": sha, "status": status}
        (dest / path).mkdir(parents=True, exist_ok=True)


def checkout(repo: str, ref: str, repos_root: Path, mirrors: Path = DEFAULT_MIRRORS, name: str | None = None) -> Tree:
    """Exports ``repo`` at ``ref`` to ``repos_root/<owner>+<name>`` (or ``name``), reusing an
    earlier export of the same commit."""
    git_dir = mirror_dir(mirrors, repo)
    if not git_dir.is_dir():
        raise FileNotFoundError(f"no mirror of {repo} at {git_dir}")
    commit = resolve(git_dir, ref)
    dest = repos_root / (name or repo.replace("/", "+"))
    marker = dest / MARKER
    if marker.is_file():
        old = json.loads(marker.read_text(encoding="utf-8"))
        if old.get("commit") == commit:
            return Tree(repo, ref, commit, dest, old.get("missing", []), old.get("submodules", {}))
    if dest.exists():
        shutil.rmtree(dest)
    staging = dest.with_name(dest.name + ".partial")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    tree = Tree(repo, ref, commit, dest)
    _export(git_dir, commit, staging, mirrors, "", tree)
    (staging / MARKER).write_text(json.dumps(tree.as_dict(), indent=2) + "\n", encoding="utf-8")
    staging.rename(dest)
    return tree


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mirrors", type=Path, default=DEFAULT_MIRRORS)
    ap.add_argument("--repos", type=Path, required=True, help="where the working trees go (outside the repo)")
    ap.add_argument("spec", nargs="+", help="owner/name@ref")
    args = ap.parse_args(argv)
    for spec in args.spec:
        repo, _, ref = spec.partition("@")
        tree = checkout(repo, ref or "HEAD", args.repos, args.mirrors)
        print(f"{repo}@{ref} -> {tree.path} ({tree.commit[:12]}; {len(tree.missing)} blob(s) absent from the mirror)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
