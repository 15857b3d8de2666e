"""The batch commit an import makes (crmctl.core.git._commit_batch): exactly its paths, additions and deletions."""
from __future__ import annotations

import subprocess
from pathlib import Path

from crmctl.core import git as gitmod
from tests.conftest import git


def test_batch_commit_adds_changes_and_deletes_only_its_paths(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    (repo / "records").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    old = [f"records/old{i}.yaml" for i in range(3)]
    for p in old:
        (repo / p).write_text("name: old\n", encoding="utf-8")
    (repo / "other.txt").write_text("staged by someone else\n", encoding="utf-8")
    git(repo, "add", "records")
    git(repo, "commit", "-qm", "start")
    git(repo, "add", "other.txt")  # staged, but not ours: must stay out of the commit
    new = [f"records/new{i:03d}.yaml" for i in range(gitmod.BATCH_PATHS + 5)]
    for n, p in enumerate(new):
        (repo / p).write_text(f"name: 名字 {n}\n", encoding="utf-8")
    (repo / old[0]).write_text("name: changed\n", encoding="utf-8")
    (repo / old[1]).unlink()
    assert gitmod.commit(str(repo), [*new, old[0], old[1]], "import: many", None)
    changed = git(repo, "show", "--name-status", "--format=", "HEAD").splitlines()
    assert len(changed) == len(new) + 2
    assert f"D\t{old[1]}" in changed and f"M\t{old[0]}" in changed and "A\trecords/new000.yaml" in changed
    assert git(repo, "show", "HEAD:records/new007.yaml") == "name: 名字 7\n"
    assert git(repo, "status", "--porcelain") == "A  other.txt\n"  # the index is fresh; other.txt still only staged
    assert git(repo, "fsck", "--no-progress").strip() == ""
    # the same paths again: nothing changed, no commit
    head = git(repo, "rev-parse", "HEAD")
    assert not gitmod.commit(str(repo), [*new, old[0], old[1]], "import: again", None)
    assert git(repo, "rev-parse", "HEAD") == head
