"""The ``persist-tool`` command line: a thin shell over functions that return values."""

from __future__ import annotations

import contextlib
import gc
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from persist_tool import __version__

if TYPE_CHECKING:
    from persist_tool.output import WriteResult

_GC_YOUNG_THRESHOLD = 100_000
"""Allocations between young collections (the interpreter's default is 700; see ``main``)."""

# The IR, readers and emitters are imported inside the commands, so ``--help`` and usage
# errors start without them (the IR's dataclasses alone cost a sixth of start-up).

# Plain help and usage errors: rich's formatting costs more start-up time (rich and
# markdown-it imported on every --help and usage error) than the whole command otherwise.
app = typer.Typer(
    name="persist-tool",
    help="Generate typed entity modules, migrations and compat checks for persisted entities.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
generate_app = typer.Typer(
    help="Generate entity modules or migration steps.", no_args_is_help=True, rich_markup_mode=None
)
app.add_typer(generate_app, name="generate")


# Options several commands share, declared once.
SourceFormat = Annotated[str, typer.Option("--format", help="auto, python, ddl or json-schema.")]
ReadDialect = Annotated[
    str | None, typer.Option("--read-dialect", help="SQL dialect of DDL sources.")
]
Dialects = Annotated[
    str | None, typer.Option("--dialects", help="Comma-separated: sqlite,postgres,mysql.")
]


@contextlib.contextmanager
def _user_errors() -> Iterator[None]:
    """Turn a ``SourceError`` into ``path:line:col: error: ...`` on stderr and exit 2.

    So is an ``OSError`` (sources are read and checked before, so it comes from writing: a
    file where the output directory should be, no permission, a full disk).
    """
    try:
        yield
    except Exception as error:
        # Only code that imported the IR raises its ``SourceError``: a command that never
        # needed it (``generate entity --check`` answered by the stamp) does not import it
        # here either.
        ir = sys.modules.get("persist_tool.ir")
        if ir is not None and isinstance(error, ir.SourceError):
            typer.echo(error.render(), err=True)
            raise typer.Exit(2) from None
        if not isinstance(error, OSError):
            raise
        from persist_tool.ir import Location, SourceError
        from persist_tool.paths import display_path

        where = (
            None if error.filename is None else Location(display_path(Path(error.filename)), 0, 0)
        )
        reason = error.strerror or str(error)
        message = f"cannot write: {reason[:1].lower()}{reason[1:]}"
        hint = "check the output path and its permissions"
        typer.echo(SourceError(where, message, hint).render(), err=True)
        raise typer.Exit(2) from None


def _exit_if_out_of_date(result: WriteResult, message: str) -> None:
    """Show ``--check``'s diff and ``message``, and exit 1, when the output differs."""
    if result.differs:
        typer.echo(result.diff, nl=False)
        typer.echo(message, err=True)
        raise typer.Exit(1)


def _warn(lines: Any) -> None:
    for diagnostic in lines:
        typer.echo(diagnostic.render(), err=True)


def _show_progress() -> bool:
    return sys.stderr.isatty() and not os.environ.get("CI")


@contextlib.contextmanager
def _progress(total: int, label: str) -> Iterator[Callable[[str], None] | None]:
    """Yield a callback that advances a progress bar, on a terminal and for long work only."""
    if total < 20 or not _show_progress():
        yield None
        return
    with typer.progressbar(length=total, label=label, file=sys.stderr) as bar:
        yield lambda _name: bar.update(1)


@generate_app.command("entity")
def generate_entity(
    sources: Annotated[list[Path] | None, typer.Argument(help="Source files.")] = None,
    out: Annotated[
        Path | None, typer.Option("-o", "--out", help="Output package directory.")
    ] = None,
    fmt: SourceFormat = "auto",
    read_dialect: ReadDialect = None,
    dialects: Dialects = None,
    entity: Annotated[
        list[str] | None, typer.Option("--entity", help="Only this entity (repeatable).")
    ] = None,
    entity_name: Annotated[
        str | None, typer.Option("--entity-name", help="Entity name for a one-table DDL source.")
    ] = None,
    schema_version: Annotated[
        int | None, typer.Option("--schema-version", help="Schema version for a DDL source.")
    ] = None,
    package_root: Annotated[
        Path | None, typer.Option("--package-root", help="Root that Python module paths start at.")
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Write nothing; exit 1 and show a diff if out of date.")
    ] = False,
) -> None:
    """Generate typed entity modules from Python classes, SQL DDL or JSON Schema."""
    from persist_tool import output
    from persist_tool.config import load_config
    from persist_tool.generate import (
        EntityRequest,
        build_entity_package,
        current_entity_stamp,
        load_entity_sources,
        parse_dialects,
        stamp_entity_package,
    )
    from persist_tool.paths import display_path

    with _user_errors():
        config = load_config()
        out_dir = out or config.path_value("out-dir") or Path("entities")
        request = EntityRequest(
            sources=tuple(sources or []) or tuple(config.paths("sources")),
            out_dir=out_dir,
            fmt=fmt if fmt != "auto" else config.get("format", "auto"),
            read_dialect=read_dialect or config.get("read-dialect"),
            entities=tuple(entity or ()),
            entity_name=entity_name,
            schema_version=schema_version,
            package_root=package_root or config.path_value("package-root"),
            dialects=parse_dialects(dialects or config.get("dialects")),
        )
        # The stamp in the output proves it current without parsing or rendering anything,
        # and holds the warnings reading the sources gave.
        current = current_entity_stamp(request)
        if current is not None:
            for warning in current.warnings:
                typer.echo(warning, err=True)
            if not check:
                typer.echo(f"{display_path(out_dir)}: up to date, nothing written", err=True)
            return
        loaded = load_entity_sources(request, record_files=not check)
        _warn(loaded.warnings)
        if check:
            with _progress(len(loaded.schema.entities), "generating") as progress:
                package = build_entity_package(loaded, dialects=request.dialects, progress=progress)
            result = output.compare(out_dir, package.texts(), label=display_path(out_dir))
            _exit_if_out_of_date(
                result,
                f"{display_path(out_dir)}: {len(result.changed) + len(result.removed)} file(s)"
                " out of date; run without --check to update",
            )
            return
        # Each module is written (beside the output, swapped in at the end) by the process
        # that rendered it, as soon as it is rendered: the writing overlaps the rendering of
        # the others, and the texts never travel back to this process.
        with (
            output.TreeWriter(out_dir) as writer,
            _progress(len(loaded.schema.entities), "generating") as progress,
        ):
            package = build_entity_package(
                loaded,
                dialects=request.dialects,
                progress=progress,
                finish=writer.early_writer(),
            )
            package = stamp_entity_package(request, loaded, package)
            result = writer.commit(package.files)
    unchanged = len(package.files) - len(result.written)
    typer.echo(
        f"{display_path(out_dir)}: {len(package.entities)} entities, "
        f"{len(result.written)} file(s) written, {unchanged} unchanged",
        err=True,
    )


@generate_app.command("migration")
def generate_migration(
    to: Annotated[
        list[Path] | None, typer.Option("--to", help="Current sources (repeatable).")
    ] = None,
    from_source: Annotated[
        list[Path] | None, typer.Option("--from", help="Sources of the previous version.")
    ] = None,
    from_lock: Annotated[
        bool, typer.Option("--from-lock", help="Migrate from the versions the lock records.")
    ] = False,
    lock_file: Annotated[
        Path | None, typer.Option("--lock", help="Lock file (default persist.lock.json).")
    ] = None,
    out: Annotated[Path | None, typer.Option("-o", "--out", help="Migrations directory.")] = None,
    rename: Annotated[
        list[str] | None,
        typer.Option("--rename", help="ENTITY.OLD=NEW field rename, or OLD=NEW entity rename."),
    ] = None,
    default: Annotated[
        list[str] | None,
        typer.Option("--default", help="ENTITY.FIELD=VALUE for stored rows and records."),
    ] = None,
    dialects: Dialects = None,
    fmt: SourceFormat = "auto",
    read_dialect: ReadDialect = None,
    check: Annotated[
        bool, typer.Option("--check", help="Write nothing; exit 1 and show a diff if out of date.")
    ] = False,
) -> None:
    """Generate migration modules (SQL per dialect and a state upgrade) for changed entities."""
    from persist_tool import output
    from persist_tool.migrate import build_migration
    from persist_tool.paths import display_path

    with _user_errors():
        built = build_migration(
            to=to or [],
            from_sources=from_source or [],
            from_lock=from_lock,
            lock_file=lock_file,
            out=out,
            renames=rename or [],
            defaults=default or [],
            dialects=dialects,
            fmt=fmt,
            read_dialect=read_dialect,
        )
    label = display_path(built.out_dir)
    for note in built.result.notes:
        typer.echo(f"note: {note}", err=True)
    for path in built.kept:
        typer.echo(f"{label}/{path}: edited by hand (no generated header): kept", err=True)
    if check:
        result = output.compare(built.out_dir, built.files, label=label)
        _exit_if_out_of_date(
            result,
            f"{label}: {len(result.changed)} migration(s) out of date;"
            " run without --check to update",
        )
        return
    with _user_errors():
        result = output.write_files(built.out_dir, built.files)
    for module in built.result.modules:
        state = "written" if module.file.path in result.written else "unchanged"
        flags = "".join(
            [" (destructive)" if module.destructive else "", " (stub)" if module.stubs else ""]
        )
        typer.echo(f"{label}/{module.file.path}: {state}{flags}", err=True)
    if not built.result.modules:
        typer.echo("no schema changes that need a migration", err=True)


@app.command("lock")
def lock_command(
    sources: Annotated[list[Path] | None, typer.Argument(help="Source files.")] = None,
    lock_file: Annotated[
        Path | None, typer.Option("--lock", help="Lock file (default persist.lock.json).")
    ] = None,
    fmt: SourceFormat = "auto",
    read_dialect: ReadDialect = None,
    check: Annotated[
        bool, typer.Option("--check", help="Write nothing; exit 1 if the lock is out of date.")
    ] = False,
) -> None:
    """Record the current schemas in the lock file."""
    from persist_tool.migrate import update_lock

    with _user_errors():
        updated = update_lock(
            sources=sources or [], lock_file=lock_file, fmt=fmt, read_dialect=read_dialect
        )
    if check:
        if updated.changed:
            typer.echo(
                f"{updated.label}: out of date (would record {', '.join(updated.recorded)});"
                " run persist-tool lock",
                err=True,
            )
            raise typer.Exit(1)
        return
    if updated.changed:
        with _user_errors():
            updated.write()
        typer.echo(f"{updated.label}: recorded {', '.join(updated.recorded)}", err=True)
    else:
        typer.echo(f"{updated.label}: up to date", err=True)


@app.command("compat-check")
def compat_check(
    sources: Annotated[list[Path] | None, typer.Argument(help="Source files.")] = None,
    lock_file: Annotated[
        Path | None, typer.Option("--lock", help="Lock file (default persist.lock.json).")
    ] = None,
    against: Annotated[
        str | None,
        typer.Option("--against", help="Check against the schemas at this git commit."),
    ] = None,
    migrations: Annotated[
        Path | None, typer.Option("--migrations", help="Migrations directory.")
    ] = None,
    snapshot: Annotated[
        list[Path] | None, typer.Option("--snapshot", help="Snapshot file (repeatable).")
    ] = None,
    journal: Annotated[
        list[Path] | None, typer.Option("--journal", help="JSONL journal file (repeatable).")
    ] = None,
    mode: Annotated[
        str | None, typer.Option("--mode", help="backward (default), forward or full.")
    ] = None,
    transitive: Annotated[
        bool, typer.Option("--transitive", help="Check against every recorded version.")
    ] = False,
    fmt: Annotated[
        str, typer.Option("--format", help="text, json, markdown, sarif or github.")
    ] = "text",
    fail_on: Annotated[
        str | None, typer.Option("--fail-on", help="error (default), warning or info.")
    ] = None,
    list_rules: Annotated[
        bool, typer.Option("--list-rules", help="Print the rule catalog and exit.")
    ] = False,
) -> None:
    """Check schema changes, migrations, snapshots and journals for compatibility."""
    from persist_tool.compat.check import options_from_config, run_check
    from persist_tool.config import load_config
    from persist_tool.emit.reports import REPORTERS
    from persist_tool.ir import SourceError
    from persist_tool.rules import format_catalog

    if list_rules:
        typer.echo(format_catalog(), nl=False)
        return
    with _user_errors():
        if fmt not in REPORTERS:
            raise SourceError(
                None, f"unknown --format {fmt!r}", f"choose from: {', '.join(REPORTERS)}"
            )
        options = options_from_config(
            load_config(),
            sources=sources or (),
            lock_file=lock_file,
            against=against,
            migrations=migrations,
            snapshots=snapshot or (),
            journals=journal or (),
            mode=mode,
            transitive=transitive,
            fail_on=fail_on,
        )
        report = run_check(options)
    _warn(report.warnings)
    colour = fmt == "text" and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    typer.echo(REPORTERS[fmt](report, colour=colour), nl=False)
    if report.failed:
        raise typer.Exit(1)


@app.command("api-version")
def api_version(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print the persist_runtime API version that generated code targets."""
    import persist_runtime

    info = {
        "api_version": persist_runtime.API_VERSION,
        "runtime_version": persist_runtime.__version__,
        "tool_version": __version__,
    }
    if as_json:
        import json

        typer.echo(json.dumps(info, sort_keys=True))
    else:
        typer.echo(info["api_version"])


def main() -> None:
    """Run the command line."""
    # A command builds many long-lived objects (a schema's IR, rendered text) and frees
    # little: at the default threshold the cyclic collector runs every 700 allocations and
    # walks them again and again, 3 to 7 % of the CPU time of generating 500 entities in
    # one process (measured). Rarer young collections cost a few MB of memory (4 there).
    gc.set_threshold(_GC_YOUNG_THRESHOLD, 50, 100)
    try:
        app()
    except SystemExit as done:
        _exit_now(done.code)
    _exit_now(0)


def _exit_now(code: object) -> NoReturn:
    """Flush the standard streams and end the process without tearing the interpreter down.

    Everything a command opens is closed by then (files, temporary directories, worker
    processes), and freeing a big schema's objects one by one only delays the exit: a
    tenth of a second for 500 entities. Exit codes are those of ``sys.exit(code)``.
    """
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # as the interpreter does with sys.exit("message") or any other object
        print(code, file=sys.stderr)
        status = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: as the interpreter would report it
            status = status or 120
    os._exit(status)


if __name__ == "__main__":  # pragma: no cover
    main()
