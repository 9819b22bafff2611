"""Compat primitives: can this code read that snapshot or journal file?

``check_snapshot(path, specs, plan)`` and ``check_journal(path, specs, plan)`` read a file
written by the store and return ``CompatFinding``s, one per *kind* of problem: a record
from a schema version newer than the code, a version with no migration path, a record that
fails validation after the upgrade (with its id and a JSON pointer), a journaled command or
payload version that no longer exists and no command migration maps, an unknown file format
version, a file written by another API major version, a stubbed state migration on the way.

Findings name the rule ids of ``persist-tool``'s catalog (``PT030``...), so the command line
reports them with the rest of its checks; the runtime keeps its own copy of their messages
to stay dependency-free (a test keeps the two in step).

Problems of the same kind (same rule, entity, version, command and JSON pointer) are folded
into one finding that counts its ``occurrences`` and names the first few records: a journal
of a million lines with one broken command gives one finding, and memory stays flat.

Journals are streamed line by line. What to do with a line depends only on its
``(entity, schema_version, command, payload_version)``, so that is decided once per key and
kept; each line then costs one ``json.loads``, one dictionary lookup and the generated
payload validation.
"""

from __future__ import annotations

from ._compat_findings import COMPAT_RULES, CompatFinding
from ._compat_journal import check_journal
from ._compat_snapshot import check_snapshot

__all__ = [
    "COMPAT_RULES",
    "CompatFinding",
    "check_journal",
    "check_snapshot",
]
