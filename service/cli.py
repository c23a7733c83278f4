"""``dtscope serve``, ``dtscope users …``, ``dtscope tokens …`` and ``dtscope audit``.

The main CLI registers these with :func:`register` (``register(app)`` adds ``serve`` and ``audit`` as
commands and ``users``/``tokens`` as groups); :data:`cli` is the same set as a standalone Typer app.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from service.settings import ALLOWED_HOSTS_ENV, ServiceSettings, load_settings

out = Console()
err = Console(stderr=True)

HomeOpt = Annotated[
    Path | None,
    typer.Option("--home", envvar="DTSCOPE_HOME", help="dtscope home folder (warehouse, published tables, service.db)."),
]

users = typer.Typer(help="Accounts: add, list, disable, enable, set-role.", no_args_is_help=True)
tokens = typer.Typer(help="API tokens: create (printed once), list, revoke.", no_args_is_help=True)

WORKER_STARTUP_SECONDS = 60  # how long a starting worker may take before the supervisor replaces it


def _store(home: Path | None) -> tuple[ServiceSettings, object]:
    from service.store import open_store

    settings = load_settings(home)
    return settings, open_store(settings.database_url, lock_dir=settings.home)


def _fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[bold red]error:[/bold red] {message}", highlight=False)
    return typer.Exit(code)


# ---------------------------------------------------------------------------------------------- serve
def serve(
    home: HomeOpt = None,
    host: Annotated[str, typer.Option(help="Address to bind (127.0.0.1 unless told otherwise).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8050,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 2,
    forwarded_allow_ips: Annotated[
        str, typer.Option(help="Reverse proxies trusted for X-Forwarded-For/-Proto (comma-separated).")
    ] = "127.0.0.1",
) -> None:
    """Serve the dashboard at / and the API at /api/v1/ with N uvicorn worker processes."""
    import uvicorn

    from service.store import open_store

    settings = load_settings(home)
    open_store(settings.database_url, lock_dir=settings.home)  # migrate once, before the workers start
    os.environ["DTSCOPE_HOME"] = str(settings.home)
    if host not in ("0.0.0.0", "::", ""):
        hosts = [*settings.allowed_hosts, host if ":" not in host else f"[{host}]"]
        os.environ[ALLOWED_HOSTS_ENV] = ",".join(dict.fromkeys(hosts))
    out.print(
        f"dtscope serve on http://{host}:{port}/ ({workers} worker(s)); API at /api/v1/, home {settings.home}",
        highlight=False,
    )
    uvicorn.run(
        "service.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        forwarded_allow_ips=forwarded_allow_ips,
        server_header=False,
        log_level="info",
        timeout_graceful_shutdown=10,
        # A worker imports the dashboard, polars, DuckDB and the store before it answers the supervisor's
        # health ping; on a loaded 2-core machine that took over uvicorn's default 5 s, and the supervisor
        # killed and respawned every worker in a loop (the API never came up).
        timeout_worker_healthcheck=WORKER_STARTUP_SECONDS,
    )


# ---------------------------------------------------------------------------------------------- users
@users.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="Account name.")],
    *,
    role: Annotated[str, typer.Option(help="leader | evaluator | owner | data_scientist | admin")],
    region: Annotated[list[str], typer.Option(help="Region id (repeat, or comma-separate), or * for all.")],
    department: Annotated[str | None, typer.Option(help="For owners: the department owning their scenarios.")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")] = False,
    home: HomeOpt = None,
) -> None:
    """Add an account. Without --password-stdin a random password is made and printed once."""
    from service import auth, backend

    _, store = _store(home)
    try:
        regions = auth.parse_regions(region, backend.known_regions())
        auth.check_role(role)
        generated = not password_stdin
        password = auth.random_password() if generated else sys.stdin.readline().rstrip("\r\n")
        with store.unit() as s:  # type: ignore[attr-defined]
            auth.add_user(s, name, role=role, regions=regions, password=password, department=department)
    except auth.AccountError as exc:
        raise _fail(str(exc)) from exc
    out.print(f"added {name} ({role}; regions {', '.join(regions)})", highlight=False)
    if generated:
        out.print(f"password (shown once, store it now): {password}", highlight=False)


@users.command("list")
def users_list(home: HomeOpt = None) -> None:
    """List the accounts (never their passwords)."""
    from sqlalchemy import select

    from service.store.models import User

    _, store = _store(home)
    table = Table(title="accounts")
    for c in ("name", "role", "regions", "department", "disabled"):
        table.add_column(c)
    with store.unit() as s:  # type: ignore[attr-defined]
        for u in s.scalars(select(User).order_by(User.name)):
            table.add_row(u.name, u.role, u.regions, u.department or "", "yes" if u.disabled else "no")
    out.print(table)


def _set_disabled(name: str, disabled: bool, home: Path | None) -> None:
    from service import auth

    _, store = _store(home)
    try:
        with store.unit() as s:  # type: ignore[attr-defined]
            auth.set_disabled(s, name, disabled)
    except auth.AccountError as exc:
        raise _fail(str(exc)) from exc
    out.print(f"{'disabled' if disabled else 'enabled'} {name}")


@users.command("disable")
def users_disable(name: str, home: HomeOpt = None) -> None:
    """Disable an account: its tokens and sessions stop working at once."""
    _set_disabled(name, True, home)


@users.command("enable")
def users_enable(name: str, home: HomeOpt = None) -> None:
    """Enable a disabled account."""
    _set_disabled(name, False, home)


@users.command("set-role")
def users_set_role(
    name: str,
    role: str,
    region: Annotated[list[str] | None, typer.Option(help="New region scope (default: unchanged).")] = None,
    home: HomeOpt = None,
) -> None:
    """Change an account's role (and, with --region, its region scope)."""
    from service import auth, backend

    _, store = _store(home)
    try:
        regions = auth.parse_regions(region, backend.known_regions()) if region else None
        with store.unit() as s:  # type: ignore[attr-defined]
            auth.set_role(s, name, role, regions=regions)
    except auth.AccountError as exc:
        raise _fail(str(exc)) from exc
    out.print(f"{name} is now {role}")


# ---------------------------------------------------------------------------------------------- tokens
@tokens.command("create")
def tokens_create(
    name: Annotated[str, typer.Argument(help="The account the token acts for.")],
    expires: Annotated[str | None, typer.Option(help="Lifetime, e.g. 90d, 12h, 2w (default: no expiry).")] = "90d",
    home: HomeOpt = None,
) -> None:
    """Create an API token; it is printed once and only its hash is kept."""
    from service import auth

    _, store = _store(home)
    try:
        lifetime = auth.parse_duration(expires) if expires else None
        with store.unit() as s:  # type: ignore[attr-defined]
            row, token = auth.create_token(s, name, expires=lifetime)
    except auth.AccountError as exc:
        raise _fail(str(exc)) from exc
    err.print(
        f"token {row.prefix} for {name}, expires {row.expires_at or 'never'} (shown once; send it as "
        "Authorization: Bearer <token>):",
        highlight=False,
    )
    typer.echo(token)


@tokens.command("list")
def tokens_list(home: HomeOpt = None) -> None:
    """List tokens by prefix (the secrets are not stored, so cannot be shown)."""
    from sqlalchemy import select

    from service.store.models import ApiToken, User

    _, store = _store(home)
    table = Table(title="API tokens")
    for c in ("prefix", "account", "created", "expires", "revoked", "last used"):
        table.add_column(c)
    with store.unit() as s:  # type: ignore[attr-defined]
        for t, u in s.execute(select(ApiToken, User).join(User, User.id == ApiToken.user_id).order_by(ApiToken.id)):
            table.add_row(
                t.prefix, u.name, f"{t.created_at:%Y-%m-%d %H:%M}", str(t.expires_at or "never"),
                str(t.revoked_at or ""), str(t.last_used_at or ""),
            )
    out.print(table)


@tokens.command("revoke")
def tokens_revoke(prefix: Annotated[str, typer.Argument(help="The token's prefix (see `tokens list`).")], home: HomeOpt = None) -> None:
    """Revoke a token: it stops working at once."""
    from service import auth

    _, store = _store(home)
    try:
        with store.unit() as s:  # type: ignore[attr-defined]
            auth.revoke_token(s, prefix)
    except auth.AccountError as exc:
        raise _fail(str(exc)) from exc
    out.print(f"revoked {prefix}")


# ---------------------------------------------------------------------------------------------- demo accounts
def demo_accounts_cmd(home: HomeOpt = None) -> None:
    """Create one demo account per role (random passwords, printed once, kept in <home>/demo-accounts.txt, 0600).

    Existing accounts are never changed: a second run creates nothing and says where the file is.
    """
    from service import auth
    from service.demo_accounts import ensure_demo_accounts

    settings, store = _store(home)
    try:
        result = ensure_demo_accounts(store, settings.home)  # type: ignore[arg-type]
    except auth.AccountError as exc:
        raise _fail(str(exc)) from exc
    if result.created:
        # plain lines, not a table: a narrow terminal must never truncate a password shown only once
        typer.echo("demo accounts (passwords shown once; name, password, role, regions, department):")
        for account, password in result.created:
            dept = f"  department={account.department}" if account.department else ""
            typer.echo(f"  {account.name}  {password}  role={account.role}  regions={','.join(account.regions)}{dept}")
        out.print(
            f"created {len(result.created)} demo account(s); their passwords are also in {result.path} "
            "(mode 0600, readable by you only). Log in at /login.",
            highlight=False,
        )
    if result.existing:
        out.print(
            f"demo accounts exist already ({', '.join(result.existing)}): not changed; their passwords are in "
            f"{result.path}" + ("" if result.path.is_file() else " (no such file: they were made elsewhere)"),
            highlight=False,
        )


# ---------------------------------------------------------------------------------------------- audit
def audit_log(
    limit: Annotated[int, typer.Option(min=1, help="How many of the latest rows to show.")] = 50,
    home: HomeOpt = None,
) -> None:
    """Show the latest rows of the append-only audit log."""
    from sqlalchemy import select

    from service.store.models import AuditEvent

    _, store = _store(home)
    table = Table(title="audit log (latest last)")
    for c in ("id", "at (UTC)", "actor", "role", "action", "target", "address", "before", "after"):
        table.add_column(c, overflow="fold")
    with store.unit() as s:  # type: ignore[attr-defined]
        rows = list(s.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)))
    for e in reversed(rows):
        table.add_row(
            str(e.id), f"{e.at:%Y-%m-%d %H:%M:%S}", e.actor, e.role, e.action, e.target, e.address or "",
            e.before or "", e.after or "",
        )
    out.print(table)


def register(app: typer.Typer) -> None:
    """Add ``serve``, ``audit``, ``demo-accounts``, ``users`` and ``tokens`` to a Typer app (the main ``dtscope`` CLI)."""
    app.command("serve")(serve)
    app.command("audit")(audit_log)
    app.command("demo-accounts")(demo_accounts_cmd)
    app.add_typer(users, name="users")
    app.add_typer(tokens, name="tokens")


cli = typer.Typer(name="dtscope-service", help="dtscope as a service.", no_args_is_help=True)
register(cli)
