"""Fused state migrations: a chain's bodies in one function, the same results and errors."""

from __future__ import annotations

import copy
import importlib.util
import itertools
import os
import subprocess
import sys
import textwrap
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from types import MethodType, ModuleType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from persist_runtime import MigrationError, MigrationPlan, MigrationStep
from persist_runtime._migration_fuse import fuse_chain, refusal

_NAMES = itertools.count()


def import_path(path: Path) -> ModuleType:
    """Import the module file ``path`` under a name of its own."""
    spec = importlib.util.spec_from_file_location(f"fuse_case_{next(_NAMES)}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_module(directory: Path, source: str) -> ModuleType:
    """Write ``source`` as a new module file in ``directory`` and import it."""
    path = directory / f"case_{os.getpid()}_{next(_NAMES)}.py"
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return import_path(path)


def state_module(directory: Path, body: str, prelude: str = "") -> ModuleType:
    """Import a module whose ``migrate_state`` runs ``body`` (generated style)."""
    lines = textwrap.indent(textwrap.dedent(body).strip("\n"), "    ")
    source = f'{textwrap.dedent(prelude)}\n\ndef migrate_state(record):\n    """Upgrade."""\n'
    return load_module(directory, f"{source}{lines}\n    return record\n")


def chain(*modules: ModuleType, stub: int | None = None) -> list[MigrationStep]:
    return [
        MigrationStep("Item", i + 1, i + 2, migrate_state=m.migrate_state, stub=i == stub)
        for i, m in enumerate(modules)
    ]


def functions(steps: list[MigrationStep]) -> list[Callable[..., Any]]:
    return [s.migrate_state for s in steps if s.migrate_state is not None]


def plans(steps: list[MigrationStep]) -> tuple[MigrationPlan, MigrationPlan]:
    """Return the same plan fused and unfused."""
    return MigrationPlan(steps, fuse=True), MigrationPlan(steps, fuse=False)


def runs_fused(plan: MigrationPlan, entity: str, version: int) -> bool:
    """Tell whether the plan's upgrade from ``version`` is a fused function (after a call)."""
    upgrade = plan._upgraders[entity][version]
    return getattr(upgrade, "__name__", "") == "fused_migrate_state"


def outcome(plan: MigrationPlan, record: dict[str, Any], version: int = 1) -> tuple[Any, ...]:
    """Return what upgrading a copy of ``record`` gives: the record, or the error's parts."""
    try:
        return ("ok", plan.upgrade_record("Item", copy.deepcopy(record), version))
    except MigrationError as error:
        cause = error.__cause__
        return ("error", str(error), type(cause), str(cause) if cause else None)


# --------------------------------------------------------------------------- generated steps

_ITEM_VERSIONS = {
    "p8": (
        "title VARCHAR(100) NOT NULL, price INTEGER NOT NULL, note TEXT",
        "title VARCHAR(100) NOT NULL, price INTEGER NOT NULL, note TEXT,"
        " qty INTEGER NOT NULL DEFAULT 1",
        "name VARCHAR(100) NOT NULL, price INTEGER NOT NULL, note TEXT,"
        " qty INTEGER NOT NULL DEFAULT 1",
        "name VARCHAR(100) NOT NULL, price DOUBLE PRECISION NOT NULL, note TEXT,"
        " qty INTEGER NOT NULL DEFAULT 1",
    ),
    # Drop, rename, a nullable text-to-decimal conversion (the module imports Decimal),
    # a null backfill under ``if`` and a new nullable field.
    "rich": (
        "title VARCHAR(100) NOT NULL, price VARCHAR(20), note TEXT, legacy TEXT",
        "title VARCHAR(100) NOT NULL, price VARCHAR(20), note TEXT,"
        " qty INTEGER NOT NULL DEFAULT 1",
        "name VARCHAR(100) NOT NULL, price NUMERIC(12,2), note TEXT,"
        " qty INTEGER NOT NULL DEFAULT 1",
        "name VARCHAR(100) NOT NULL, price NUMERIC(12,2), note TEXT NOT NULL DEFAULT '',"
        " qty INTEGER NOT NULL DEFAULT 1, label VARCHAR(10)",
    ),
}


def generate_steps(directory: Path, versions: tuple[str, ...]) -> list[MigrationStep]:
    """Generate the steps between ``versions`` with the CLI and import them."""
    directory.mkdir()
    for number, columns in enumerate(versions, start=1):
        (directory / f"item_v{number}.sql").write_text(
            f"-- persist: Item schema_version={number}\n"
            f"CREATE TABLE items (id INTEGER NOT NULL PRIMARY KEY, {columns});\n",
            encoding="utf-8",
        )
    cli = [sys.executable, "-m", "persist_tool", "generate", "migration"]
    for number in range(1, len(versions)):
        rename = ["--rename", "Item.title=name"] if number == 2 else []
        paths = ["--from", f"item_v{number}.sql", "--to", f"item_v{number + 1}.sql"]
        subprocess.run([*cli, *paths, "-o", "mig", *rename], cwd=directory, check=True)
    modules = sorted((directory / "mig").glob("item_v*_to_v*.py"))
    assert len(modules) == len(versions) - 1
    return [import_path(path).STEP for path in modules]


@pytest.fixture(scope="module", params=sorted(_ITEM_VERSIONS))
def generated(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    directory = tmp_path_factory.mktemp("generated") / request.param
    return generate_steps(directory, _ITEM_VERSIONS[request.param])


_RECORDS: list[dict[str, Any]] = [
    {"id": 1, "title": "a", "price": 7, "note": None, "legacy": "x"},
    {"id": 2, "title": "b", "price": "12.50", "note": "n", "legacy": None},
    {"id": 3, "title": "c", "price": None, "note": None, "legacy": "y"},
    {"id": 4, "title": "d", "price": "no number", "note": None, "legacy": "z"},
    {"id": 5, "price": 1, "note": None, "legacy": "w"},
]


def test_generated_steps_fuse(generated: list[MigrationStep]) -> None:
    assert refusal(functions(generated)) is None


def test_fused_plan_upgrades_generated_records_like_the_unfused_plan(
    generated: list[MigrationStep],
) -> None:
    fused, plain = plans(generated)
    for version in (1, 2, 3):
        for record in _RECORDS:
            if version > 1:
                record = {k: v for k, v in record.items() if k != "legacy"}
            assert outcome(fused, record, version) == outcome(plain, record, version)
        assert runs_fused(fused, "Item", version) is (version < 3)


def test_upgrade_records_fuses_on_its_first_batch(generated: list[MigrationStep]) -> None:
    fused, plain = plans(generated)
    records = [{"id": i, "title": "t", "price": i, "note": None, "legacy": 1} for i in range(5)]
    assert fused.upgrade_records("Item", copy.deepcopy(records), 1) == plain.upgrade_records(
        "Item", copy.deepcopy(records), 1
    )
    assert runs_fused(fused, "Item", 1)


# --------------------------------------------------------------------------- random chains

_FIELDS = ("a", "b", "c", "d")
_CONVERSIONS = ("float", "str", "int", "abs")

_field = st.sampled_from(_FIELDS)
_statement = st.one_of(
    st.builds("record[{!r}] = {!r}".format, _field, st.integers(-3, 3)),
    st.builds("record.setdefault({!r}, {!r})".format, _field, st.integers(-3, 3)),
    st.builds("record[{1!r}] = record.pop({0!r})".format, _field, _field),
    st.builds("value = record.pop({!r})\nrecord[{!r}] = value".format, _field, _field),
    st.builds("record[{0!r}] = {1}(record[{0!r}])".format, _field, st.sampled_from(_CONVERSIONS)),
    st.builds(
        "record[{0!r}] = None if record[{0!r}] is None else {1}(record[{0!r}])".format,
        _field,
        st.sampled_from(_CONVERSIONS),
    ),
    st.builds("del record[{!r}]".format, _field),
    st.builds("record[{!r}] = OFFSET + len(record)".format, _field),
    # ``value`` is bound only when the field is there: another body's ``value`` must not leak.
    st.builds(
        "if {0!r} in record:\n    value = record[{0!r}]\nrecord[{1!r}] = value".format,
        _field,
        _field,
    ),
)
_body = st.lists(_statement, min_size=0, max_size=4).map("\n".join)
_value = st.one_of(st.none(), st.integers(-5, 5), st.sampled_from(["1", "2.5", "x", ""]))
_record = st.dictionaries(_field, _value, max_size=4)


@pytest.fixture(scope="module")
def random_chain_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("random_chains")


@settings(max_examples=80, deadline=None)
@given(
    bodies=st.lists(_body, min_size=2, max_size=4),
    records=st.lists(_record, min_size=1, max_size=5),
)
def test_random_chains_give_the_same_records_and_errors_fused_and_unfused(
    random_chain_dir: Path, bodies: list[str], records: list[dict[str, Any]]
) -> None:
    modules = [
        state_module(random_chain_dir, body, prelude=f"OFFSET = {i * 10}")
        for i, body in enumerate(bodies)
    ]
    steps = chain(*modules)
    assert refusal(functions(steps)) is None
    fused, plain = plans(steps)
    for record in records:
        for version in range(1, len(steps)):
            assert outcome(fused, record, version) == outcome(plain, record, version)
    assert all(runs_fused(fused, "Item", v) for v in range(1, len(steps)))


# --------------------------------------------------------------------------- refusals

_REFUSALS: list[tuple[str, str, str]] = [
    (
        "closure",
        """
        def make():
            extra = 1
            def migrate_state(record):
                record["x"] = extra
                return record
            return migrate_state
        migrate_state = make()
        """,
        "has a closure",
    ),
    (
        "captured local",
        """
        def migrate_state(record):
            get = lambda: record
            return record
        """,
        "has variables an inner scope captures",
    ),
    (
        "defaults",
        """
        def migrate_state(record, extra=1):
            return record
        """,
        "has default values",
    ),
    (
        "keyword-only",
        """
        def migrate_state(record, *, extra):
            return record
        """,
        "has keyword-only parameters",
    ),
    (
        "variadic",
        """
        def migrate_state(record, *more):
            return record
        """,
        "has variadic parameters",
    ),
    (
        "two parameters",
        """
        def migrate_state(record, other):
            return record
        """,
        "does not take exactly one positional parameter",
    ),
    (
        "generator",
        """
        def migrate_state(record):
            yield record
        """,
        "is a generator or coroutine",
    ),
    (
        "coroutine",
        """
        async def migrate_state(record):
            return record
        """,
        "is a generator or coroutine",
    ),
    (
        "partial",
        """
        import functools
        def _base(record, extra):
            return record
        migrate_state = functools.partial(_base, extra=1)
        """,
        "is not a plain Python function",
    ),
    ("builtin", "migrate_state = dict\n", "is not a plain Python function"),
    (
        "no source",
        'exec("def migrate_state(record):\\n    return record\\n")\n',
        "its source is not available",
    ),
    (
        "lambda",
        "migrate_state = lambda record: record\n",
        "is not defined by exactly one def statement",
    ),
    (
        "decorated",
        """
        def keep(fn):
            return fn
        @keep
        def migrate_state(record):
            return record
        """,
        "has decorators",
    ),
    (
        "no return",
        """
        def migrate_state(record):
            record["x"] = 1
        """,
        "does not end in its only return",
    ),
    (
        "early return",
        """
        def migrate_state(record):
            if record:
                return record
            record["x"] = 1
            return record
        """,
        "does not end in its only return",
    ),
    (
        "returns something else",
        """
        def migrate_state(record):
            return dict(record)
        """,
        "does not return its parameter",
    ),
    (
        "rebinds parameter",
        """
        def migrate_state(record):
            record = dict(record)
            return record
        """,
        "rebinds or deletes its parameter",
    ),
    (
        "augmented parameter",
        """
        def migrate_state(record):
            record |= {"x": 1}
            return record
        """,
        "rebinds or deletes its parameter",
    ),
    (
        "parameter as loop target",
        """
        def migrate_state(record):
            for record in [record]:
                pass
            return record
        """,
        "rebinds or deletes its parameter",
    ),
    (
        "parameter as exception name",
        """
        def migrate_state(record):
            try:
                pass
            except KeyError as record:
                pass
            return record
        """,
        "rebinds or deletes its parameter",
    ),
    (
        "deletes parameter",
        """
        def migrate_state(record):
            del record
            return record
        """,
        "rebinds or deletes its parameter",
    ),
    (
        "nested def",
        """
        def migrate_state(record):
            def helper(v):
                return v
            return record
        """,
        "defines a function",
    ),
    (
        "lambda in body",
        """
        def migrate_state(record):
            record["x"] = (lambda v: v)(1)
            return record
        """,
        "defines a lambda",
    ),
    (
        "class",
        """
        def migrate_state(record):
            class Local:
                pass
            return record
        """,
        "defines a class",
    ),
    (
        "global",
        """
        COUNT = 0
        def migrate_state(record):
            global COUNT
            COUNT = 1
            return record
        """,
        "declares a global",
    ),
    (
        "comprehension",
        """
        def migrate_state(record):
            record["keys"] = [k for k in ("a", "b")]
            return record
        """,
        "has a comprehension",
    ),
    (
        "import",
        """
        def migrate_state(record):
            import json
            record["x"] = json.dumps(1)
            return record
        """,
        "imports inside its body",
    ),
    (
        "match",
        """
        def migrate_state(record):
            match record:
                case {"x": x}:
                    record["y"] = x
            return record
        """,
        "has a match statement",
    ),
    (
        "locals",
        """
        def migrate_state(record):
            record["x"] = len(locals())
            return record
        """,
        "uses 'locals'",
    ),
    (
        "vars",
        """
        def migrate_state(record):
            record["x"] = len(vars())
            return record
        """,
        "uses 'vars'",
    ),
    (
        "globals",
        """
        def migrate_state(record):
            record["x"] = len(globals())
            return record
        """,
        "uses 'globals'",
    ),
    (
        "eval",
        """
        def migrate_state(record):
            record["x"] = eval("1")
            return record
        """,
        "uses 'eval'",
    ),
    (
        "dunder name",
        """
        def migrate_state(record):
            record["module"] = __name__
            return record
        """,
        "uses '__name__'",
    ),
    (
        "frame attribute",
        """
        import sys
        def migrate_state(record):
            record["frame"] = sys._getframe()
            return record
        """,
        "uses the attribute '_getframe'",
    ),
    (
        "warning",
        """
        import warnings
        def migrate_state(record):
            warnings.warn("old data")
            return record
        """,
        "uses the attribute 'warn'",
    ),
    (
        "dunder attribute",
        """
        def migrate_state(record):
            record["type"] = record.__class__
            return record
        """,
        "uses the attribute '__class__'",
    ),
    (
        "reserved prefix",
        """
        def migrate_state(record):
            _pf_value = 1
            record["x"] = _pf_value
            return record
        """,
        "a name with the prefix the fused code keeps for itself",
    ),
    (
        "undefined global",
        """
        def migrate_state(record):
            record["x"] = NOT_DEFINED_ANYWHERE
            return record
        """,
        "reads 'NOT_DEFINED_ANYWHERE', which neither its module nor the builtins define",
    ),
    (
        "other builtins",
        """
        def _base(record):
            return record
        migrate_state = type(_base)(_base.__code__, {"__builtins__": {}})
        """,
        "the functions do not share their builtins",
    ),
    (
        "other future imports",
        """
        from __future__ import barry_as_FLUFL
        def migrate_state(record):
            return record
        """,
        "the functions were compiled under different __future__ imports",
    ),
]


@pytest.mark.parametrize(
    ("source", "reason"), [c[1:] for c in _REFUSALS], ids=[c[0] for c in _REFUSALS]
)
def test_a_function_that_cannot_run_faithfully_in_a_fused_body_is_not_fused(
    tmp_path: Path, source: str, reason: str
) -> None:
    good = state_module(tmp_path, 'record["ok"] = True').migrate_state
    bad = load_module(tmp_path, source).migrate_state
    found = refusal([good, bad])
    assert found is not None and reason in found, found
    assert fuse_chain([good, bad], "Item") is None


def test_a_chain_with_a_refused_function_runs_the_steps_one_by_one(tmp_path: Path) -> None:
    first = state_module(tmp_path, 'record["a"] = 1')
    refused = load_module(tmp_path, _REFUSALS[0][1])
    fused, plain = plans(chain(first, refused))
    assert outcome(fused, {}) == outcome(plain, {}) == ("ok", {"a": 1, "x": 1})
    assert not runs_fused(fused, "Item", 1)


# --------------------------------------------------------------------------- stale source

_STALE = "its source does not compile to the code it runs"
_EDITS = [
    ("constant", 'record["x"] = 1', 'record["x"] = 2', _STALE),
    ("global name", 'record["x"] = float(record["x"])', 'record["x"] = round(record["x"])', _STALE),
    ("local name", 'v = record["x"]\nrecord["y"] = v', 'w = record["x"]\nrecord["y"] = w', _STALE),
    ("statement", 'record["x"] = 1', 'record["x"] = 1\nrecord["y"] = 2', _STALE),
    # The same function one line further down: nothing starts where the code says it does.
    ("moved", 'record["x"] = 1', None, "is not defined by exactly one def statement"),
]


@pytest.mark.parametrize(
    ("before", "after", "reason"), [e[1:] for e in _EDITS], ids=[e[0] for e in _EDITS]
)
def test_a_module_edited_on_disk_after_import_is_not_fused(
    tmp_path: Path, before: str, after: str | None, reason: str
) -> None:
    module = state_module(tmp_path, before)
    path = Path(module.__file__ or "")
    text = path.read_text(encoding="utf-8")
    if after is None:
        edited = "\n" + text
    else:
        edited = text.replace(textwrap.indent(before, "    "), textwrap.indent(after, "    "))
    assert edited != text
    path.write_text(edited, encoding="utf-8")
    later = path.stat().st_mtime + 10
    os.utime(path, (later, later))
    unedited = state_module(tmp_path, before).migrate_state
    found = refusal([unedited, module.migrate_state])
    assert found is not None and found.startswith(f"function 2 (migrate_state): {reason}"), found


# --------------------------------------------------------------------------- globals


def test_fused_bodies_read_module_globals_when_called(tmp_path: Path) -> None:
    prelude = """
        FACTOR = 2
        LIMIT = 100
        def helper(v):
            return v * FACTOR
    """
    first = state_module(tmp_path, 'record["x"] = helper(record["x"]) + FACTOR', prelude)
    second = state_module(tmp_path, 'record["y"] = min(record["x"], LIMIT)', "LIMIT = 5")
    fused, plain = plans(chain(first, second))

    def same(expected: dict[str, Any]) -> None:
        assert outcome(fused, {"x": 1}) == outcome(plain, {"x": 1}) == ("ok", expected)
        assert runs_fused(fused, "Item", 1)

    same({"x": 4, "y": 4})
    setattr(first, "FACTOR", 10)  # noqa: B010 (a module attribute the checker cannot see)
    same({"x": 20, "y": 5})
    setattr(first, "helper", lambda v: -v)  # noqa: B010
    setattr(second, "LIMIT", 50)  # noqa: B010
    same({"x": 9, "y": 9})


def test_a_module_global_shadowing_a_builtin_is_read_live_and_falls_back_to_the_builtin(
    tmp_path: Path,
) -> None:
    module = state_module(tmp_path, 'record["x"] = min(record["x"], 3)', "min = max")
    other = state_module(tmp_path, 'record["y"] = 1')
    fused, plain = plans(chain(module, other))
    assert outcome(fused, {"x": 5}) == outcome(plain, {"x": 5}) == ("ok", {"x": 5, "y": 1})
    del module.min
    assert outcome(fused, {"x": 5}) == outcome(plain, {"x": 5}) == ("ok", {"x": 3, "y": 1})
    assert runs_fused(fused, "Item", 1)


def test_a_module_global_deleted_after_fusion_fails_as_unfused(tmp_path: Path) -> None:
    module = state_module(tmp_path, 'record["x"] = LIMIT', "LIMIT = 5")
    other = state_module(tmp_path, 'record["y"] = 1')
    fused, plain = plans(chain(module, other))
    assert outcome(fused, {}) == outcome(plain, {})
    del module.LIMIT
    failed = outcome(fused, {})
    assert failed == outcome(plain, {})
    assert (
        failed[1] == "Item v1 -> v2: migrate_state failed: NameError: name 'LIMIT' is not defined"
    )


# --------------------------------------------------------------------------- failures


def three_modules(directory: Path) -> list[ModuleType]:
    """Three steps that fail on different records (first, middle, last body)."""
    return [
        state_module(directory, 'record["a"] = int(record["a"])'),
        state_module(directory, 'record["b"] = record.pop("old_b")'),
        state_module(directory, 'record["c"] = 10 // record["c"]'),
    ]


@pytest.fixture
def three(tmp_path: Path) -> list[ModuleType]:
    return three_modules(tmp_path)


_FAILURES = [
    ({"a": "x"}, 0, ValueError, 'record["a"] = int(record["a"])'),
    ({"a": 1, "c": 1}, 1, KeyError, 'record["b"] = record.pop("old_b")'),
    ({"a": 1, "old_b": 2, "c": 0}, 2, ZeroDivisionError, "10 // record"),
]


_GOOD = {"a": "1", "old_b": 2, "c": 5}
"""A record ``three`` upgrades: upgrading it first makes the chain inline in the plan."""
_WARM = pytest.mark.parametrize("warm", [False, True], ids=["first record", "inline"])
_FAILING = pytest.mark.parametrize(
    ("record", "index", "kind", "statement"), _FAILURES, ids=["first", "middle", "last"]
)


@_WARM
@_FAILING
def test_a_failure_names_the_step_whose_body_raised_as_unfused(
    three: list[ModuleType],
    record: dict[str, Any],
    index: int,
    kind: type,
    statement: str,
    warm: bool,
) -> None:
    label = f"Item v{index + 1} -> v{index + 2}"
    fused, plain = plans(chain(*three))
    if warm:
        fused.upgrade_record("Item", dict(_GOOD), 1)
        assert not isinstance(fused.upgrade_record, MethodType)
    failed = outcome(fused, record)
    assert failed == outcome(plain, record)
    assert failed[1].startswith(f"{label}: migrate_state failed: {kind.__name__}")
    assert runs_fused(fused, "Item", 1)


@_WARM
@_FAILING
def test_a_fused_failure_keeps_the_original_error_with_a_note_naming_its_file_and_line(
    three: list[ModuleType],
    record: dict[str, Any],
    index: int,
    kind: type,
    statement: str,
    warm: bool,
) -> None:
    label = f"Item v{index + 1} -> v{index + 2}"
    plan = MigrationPlan(chain(*three))
    if warm:
        plan.upgrade_record("Item", dict(_GOOD), 1)
    with pytest.raises(MigrationError) as caught:
        plan.upgrade_record("Item", dict(record), 1)
    cause = caught.value.__cause__
    assert cause is not None and type(cause) is kind
    module = three[index]
    lines = Path(module.__file__ or "").read_text(encoding="utf-8").splitlines()
    line = next(n for n, text in enumerate(lines, start=1) if statement in text)
    assert f"{label}: raised at {module.__file__}:{line}" in "\n".join(cause.__notes__)
    shown = "".join(traceback.format_exception(cause))
    assert statement in shown  # the fused frame shows the line as written


def test_a_failure_inside_a_helper_is_the_calling_step_s(tmp_path: Path) -> None:
    prelude = """
        def parse(v):
            return int(v)
    """
    steps = chain(
        state_module(tmp_path, 'record["a"] = 1'),
        state_module(tmp_path, 'record["b"] = parse(record["b"])', prelude),
    )
    fused, plain = plans(steps)
    failed = outcome(fused, {"b": "x"})
    assert failed == outcome(plain, {"b": "x"})
    assert failed[1].startswith("Item v2 -> v3: migrate_state failed: ValueError")


def test_an_unbound_local_reads_as_written_and_never_sees_another_body_s_local(
    tmp_path: Path,
) -> None:
    steps = chain(
        state_module(tmp_path, 'value = 1\nrecord["a"] = value'),
        state_module(tmp_path, 'if "b" in record:\n    value = record["b"]\nrecord["c"] = value'),
    )
    fused, plain = plans(steps)
    failed = outcome(fused, {})
    assert failed == outcome(plain, {})
    assert (
        failed[3] == "cannot access local variable 'value' where it is not associated with a value"
    )


def test_a_migration_error_raised_by_a_body_is_wrapped_as_unfused(tmp_path: Path) -> None:
    prelude = "from persist_runtime import MigrationError"
    steps = chain(
        state_module(tmp_path, 'record["a"] = 1'),
        state_module(
            tmp_path, 'if "bad" in record:\n    raise MigrationError("bad record")', prelude
        ),
    )
    fused, plain = plans(steps)
    assert outcome(fused, {"bad": 1}) == outcome(plain, {"bad": 1})
    assert outcome(fused, {"bad": 1})[1] == (
        "Item v2 -> v3: migrate_state failed: MigrationError: bad record"
    )


def test_an_unwritten_stub_in_a_fused_chain_is_reported_as_unfused(tmp_path: Path) -> None:
    stub = state_module(tmp_path, 'raise NotImplementedError("Item v2 -> v3: convert `x`")')
    last = state_module(tmp_path, 'record["c"] = 1')
    steps = chain(state_module(tmp_path, 'record["a"] = 1'), stub, last, stub=1)
    fused, plain = plans(steps)
    failed = outcome(fused, {})
    assert failed == outcome(plain, {})
    assert failed[1].startswith("Item v2 -> v3: the state migration is not written yet")


# --------------------------------------------------------------------------- switching off


def test_fusion_can_be_switched_off_by_the_environment_or_by_the_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    steps = chain(state_module(tmp_path, 'record["a"] = 1'), state_module(tmp_path, "pass"))
    built: dict[str, Callable[[], MigrationPlan]] = {
        "default": lambda: MigrationPlan(steps),
        "fuse=False": lambda: MigrationPlan(steps, fuse=False),
        "fuse=True": lambda: MigrationPlan(steps, fuse=True),
        "with_tables": lambda: MigrationPlan(steps, fuse=False).with_tables({"Item": "items"}),
    }

    def fused_under(environment: str | None) -> dict[str, bool]:
        if environment is None:
            monkeypatch.delenv("PERSIST_RUNTIME_FUSE", raising=False)
        else:
            monkeypatch.setenv("PERSIST_RUNTIME_FUSE", environment)
        out = {}
        for name, make in built.items():
            plan = make()
            assert plan.upgrade_record("Item", {}, 1) == {"a": 1}
            out[name] = runs_fused(plan, "Item", 1)
        return out

    on = {"default": True, "fuse=False": False, "fuse=True": True, "with_tables": False}
    assert fused_under(None) == on
    assert fused_under("0") == {**on, "default": False}


@pytest.fixture(autouse=True)
def _fusion_default(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run every test with fusion at its default, whatever the caller's environment."""
    monkeypatch.delenv("PERSIST_RUNTIME_FUSE", raising=False)
    yield
