"""`python -m warehouse users add|list|disable|enable|passwd`: local accounts (warehouse/accounts.py).

Passwords come from a prompt (asked twice) or, with --password-stdin, from the first line
of standard input; they are never taken as an argument (it would sit in the shell history).
A wall account gets a kiosk token instead, printed once: open /?view=wall&token=<token>.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from warehouse import accounts, audit
from warehouse.scope import ROLES


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("users", help="local accounts: add, list, disable, enable, passwd",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--accounts", help="accounts file (default $WAREHOUSE_ACCOUNTS or data/accounts.sqlite)")
    cmd = p.add_subparsers(dest="users_command", required=True)
    a = cmd.add_parser("add", help="add an account")
    a.add_argument("name")
    a.add_argument("--role", required=True, choices=ROLES,
                   help="county, town, village (one area of that level), analyst (one or more "
                        "areas), wall (kiosk token, aggregates only), admin")
    a.add_argument("--area", action="append", default=[], help="area code (repeat for an analyst)")
    a.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    cmd.add_parser("list", help="list accounts (never passwords)")
    for name, text in (("disable", "disable an account (ends its sessions; revokes a wall token)"),
                       ("enable", "enable a disabled account")):
        cmd.add_parser(name, help=text).add_argument("name")
    pw = cmd.add_parser("passwd", help="set a new password (a wall account: a new token); unlocks")
    pw.add_argument("name")
    pw.add_argument("--password-stdin", action="store_true")
    p.set_defaults(func=run)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        pw = sys.stdin.readline().rstrip("\r\n")
    else:
        pw = getpass.getpass("密码 / Password: ")
        if getpass.getpass("再次输入 / Again: ") != pw:
            raise ValueError("the two passwords differ")
    if len(pw) < 8:
        raise ValueError("a password needs at least 8 characters")
    return pw


def run(args: argparse.Namespace) -> int:
    path, who = args.accounts, audit.cli_user()
    try:
        if args.users_command == "list":
            print(f"{'name':<16} {'role':<8} {'areas':<28} state")
            for acc in accounts.all_accounts(path):
                state = "disabled" if acc.disabled else (f"locked until {acc.locked_until}" if acc.locked_until
                                                          else "active")
                print(f"{acc.name:<16} {acc.role:<8} {','.join(acc.areas) or '-':<28} {state}"
                      + (f" (last login {acc.last_login})" if acc.last_login else ""))
            return 0
        if args.users_command == "add":
            pw = None if args.role == "wall" else _password(args.password_stdin)
            token = accounts.add(args.name, args.role, args.area, pw, path)
            audit.record("account", who, "admin", what=f"add {args.name}", area=",".join(args.area) or None,
                         role_given=args.role)
            print(f"added {args.name} ({args.role})", file=sys.stderr)
        elif args.users_command in ("disable", "enable"):
            accounts.set_disabled(args.name, args.users_command == "disable", path)
            audit.record("account", who, "admin", what=f"{args.users_command} {args.name}")
            print(f"{args.users_command}d {args.name}", file=sys.stderr)
            return 0
        else:  # passwd
            acc = accounts.get(args.name, path)
            if acc is None:
                raise KeyError(f"no account {args.name!r}")
            pw = None if acc.role == "wall" else _password(args.password_stdin)
            token = accounts.set_password(args.name, pw, path)
            audit.record("account", who, "admin", what=f"passwd {args.name}")
            print(f"new {'token' if token else 'password'} for {args.name}", file=sys.stderr)
    except (ValueError, KeyError) as e:
        print(f"error: {e.args[0] if e.args else e}", file=sys.stderr)
        return 2
    if token:
        print(token)
        print(f"wall: open /?view=wall&token={token}", file=sys.stderr)
    return 0
