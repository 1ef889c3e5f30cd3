#!/usr/bin/env python3
"""Regenerates commands/command_table_data.inc from a real redis-server's COMMAND.

Usage: scripts/gen_command_table.py [redis-server binary]
Starts a throwaway redis-server on a free loopback port, reads COMMAND, and
writes one row per command and per subcommand ("config|get", as Redis
names them): name, arity, flags, first key, ACL categories and, for the
commands the proxy treats specially, their family (FAMILIES). A command with subcommands
gets kHasSubcommands so the router looks its second argument up too.
"""
import os
import socket
import subprocess
import sys
import tempfile
import time

FLAG_MAP = {
    "write": "kWrite", "readonly": "kReadOnly", "admin": "kAdmin", "pubsub": "kPubSub",
    "noscript": "kNoScript", "blocking": "kBlocking", "loading": "kLoading",
    "stale": "kStale", "fast": "kFast", "movablekeys": "kMovableKeys", "denyoom": "kDenyOom",
}

# The proxy's own column: what it does with a command beyond what the flags
# say (commands::Family). Every command-family rule of the router reads this
# column; no name is compared anywhere else.
FAMILIES = {
    "ping": "Ping", "echo": "Echo", "quit": "Quit", "select": "Select", "hello": "Hello",
    "auth": "Auth", "reset": "Reset", "client|setname": "ClientSetName",
    "client|getname": "ClientGetName",
    "client|tracking": "ClientTracking", "client|caching": "ClientCaching",
    "multi": "Multi", "exec": "Exec", "discard": "Discard", "watch": "Watch",
    "unwatch": "Unwatch",
    "subscribe": "Subscribe", "psubscribe": "Subscribe", "ssubscribe": "Subscribe",
    "unsubscribe": "Unsubscribe", "punsubscribe": "Unsubscribe", "sunsubscribe": "Unsubscribe",
    "xread": "StreamRead", "xreadgroup": "StreamRead", "wait": "Wait",
    "scan": "Scan", "sscan": "KeyScan", "hscan": "KeyScan", "zscan": "KeyScan",
    "script|load": "ScriptCopy", "script|flush": "ScriptCopy", "info": "Info",
    "script|kill": "EndsBusyScript", "function|kill": "EndsBusyScript",
    "acl|whoami": "AclWhoami",
}


def read_reply(stream):
    line = stream.readline()
    kind, rest = line[:1], line[1:-2]
    if kind in (b"+", b"-"):
        return rest.decode()
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = stream.read(n + 2)
        return data[:-2].decode()
    if kind in (b"*", b"~", b"%"):
        n = int(rest)
        return [read_reply(stream) for _ in range(n)]
    raise ValueError(f"unexpected reply {line!r}")


def block_timeout(doc):
    """Where a blocking command's timeout is, from COMMAND DOCS: an argument
    "timeout" of type double (seconds) first or last, or the BLOCK option
    (milliseconds). A blocking command re-sent after a failover gets what is
    left of it."""
    if not doc:
        return None
    doc = dict(zip(doc[0::2], doc[1::2]))
    arguments = [dict(zip(a[0::2], a[1::2])) for a in doc.get("arguments", [])]
    for index, argument in enumerate(arguments):
        if argument.get("name") == "timeout" and argument.get("type") == "double":
            if index == 0:
                return "FirstSeconds"
            if index == len(arguments) - 1:
                return "LastSeconds"
        if argument.get("token") == "BLOCK":
            return "BlockMillis"
    return None


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else "redis-server"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with tempfile.TemporaryDirectory() as tmp:
        server = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1",
                                   "--save", "", "--dir", tmp], stdout=subprocess.DEVNULL)
        try:
            for _ in range(100):
                try:
                    conn = socket.create_connection(("127.0.0.1", port))
                    break
                except OSError:
                    time.sleep(0.05)
            stream = conn.makefile("rb")
            conn.sendall(b"*1\r\n$7\r\nCOMMAND\r\n")
            commands = read_reply(stream)
            conn.sendall(b"*2\r\n$7\r\nCOMMAND\r\n$4\r\nDOCS\r\n")
            docs = read_reply(stream)
            conn.sendall(b"*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n")
            version = [l for l in read_reply(stream).splitlines() if l.startswith("redis_version")][0]
        finally:
            server.terminate()
            server.wait()
    entries = []
    for entry in commands:
        entries.append(entry)
        subcommands = entry[9] if len(entry) > 9 and entry[9] else []
        entries.extend(subcommands)
    docs = dict(zip(docs[0::2], docs[1::2]))
    rows = []
    for entry in sorted(entries, key=lambda e: e[0].lower()):
        name, arity, flags, first_key, categories = entry[0], entry[1], entry[2], entry[3], entry[6]
        mapped = [FLAG_MAP[f] for f in flags if f in FLAG_MAP]
        if len(entry) > 9 and entry[9]:
            mapped.append("kHasSubcommands")
        mapped = mapped or ["kNone"]
        family = FAMILIES.get(name.lower())
        timeout = block_timeout(docs.get(name.lower())) if "blocking" in flags else None
        if timeout:
            family = f", Family::{family or 'None'}, BlockTimeout::{timeout}"
        else:
            family = f", Family::{family}" if family else ""
        rows.append(f'    {{"{name.lower()}", {arity}, {" | ".join(mapped)}, {first_key}, '
                    f'aclCategories("{" ".join(categories)}"){family}}},')
    out = os.path.join(os.path.dirname(__file__), "..", "commands", "command_table_data.inc")
    with open(out, "w") as f:
        f.write(f"// Generated by scripts/gen_command_table.py from {version}. Do not edit.\n")
        f.write("\n".join(rows) + "\n")
    print(f"wrote {len(rows)} commands and subcommands from {version}")


if __name__ == "__main__":
    main()
