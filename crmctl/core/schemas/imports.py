"""Import runs: what a batch import read, created, updated and rejected."""
from __future__ import annotations

from crmctl.core.schema import Field, Schema

SCHEMA = Schema(
    type="imports", title="import", id_kind="generated", name_field="file",
    columns=("id", "type", "file", "at", "by"),
    fields=(
        Field("type", required=True),
        Field("file", required=True),
        Field("mapping"),
        Field("mapping_sha256"),  # of the mapping file's bytes: a pipe's or stdin's name says nothing afterwards
        Field("sha256"),
        Field("at", "datetime", required=True),
        Field("by"),
        Field("counts", "map", required=True),
        Field("rejected_file"),
        Field("options", "map"),
    ),
)
