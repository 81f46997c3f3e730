"""Opens N idle TCP connections to a gateway and checks that the node's memory stays
bounded and a well-behaved client is still answered (driven by scripts/gateway-load).

Usage: idle_connections.py HOST PORT PID [--count 10000] [--rss-limit-mb 512] [--hold 5]
Prints RSS before/with/after the connections, how many the server holds (its /v1/stats
`connections` gauge) and the well-behaved client's results; exits 1 when the RSS passes
the limit or the well-behaved client is not answered every time.
"""
import argparse
import errno
import json
import resource
import select
import socket
import sys
import time
import urllib.request


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def probe(url, timeout=5):
    start = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            body = response.read()
            return response.status, (time.monotonic() - start) * 1000, body
    except Exception as error:  # noqa: BLE001 — reported, not hidden
        return f"{type(error).__name__}: {error}", (time.monotonic() - start) * 1000, b""


def server_connections(base):
    status, _, body = probe(base + "/v1/stats")
    try:
        return json.loads(body)["connections"] if status == 200 else None
    except (ValueError, KeyError):
        return None


def open_connections(host, port, count, batch=500):
    """Non-blocking connects in batches; returns the connected sockets."""
    connected, failures = [], 0
    for start in range(0, count, batch):
        pending = []
        for _ in range(min(batch, count - start)):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            code = s.connect_ex((host, port))
            if code in (0, errno.EINPROGRESS):
                pending.append(s)
            else:
                failures += 1
                s.close()
        poller = select.poll()
        by_fd = {s.fileno(): s for s in pending}
        for fd in by_fd:
            poller.register(fd, select.POLLOUT)
        deadline = time.monotonic() + 10
        while by_fd and time.monotonic() < deadline:
            for fd, _ in poller.poll(500):
                s = by_fd.pop(fd, None)
                if s is None:
                    continue
                poller.unregister(fd)
                if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                    connected.append(s)
                else:
                    failures += 1
                    s.close()
        for s in by_fd.values():
            failures += 1
            s.close()
    return connected, failures


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("pid", type=int)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--rss-limit-mb", type=float, default=512)
    parser.add_argument("--hold", type=float, default=5, help="seconds to hold the connections open")
    args = parser.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = args.count + 256
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))
    base = f"http://{args.host}:{args.port}"
    before = rss_mb(args.pid)
    base_status, base_ms, _ = probe(base + "/healthz")
    opened_at = time.monotonic()
    sockets, failures = open_connections(args.host, args.port, args.count)
    open_seconds = time.monotonic() - opened_at
    time.sleep(1)
    held = server_connections(base)
    during = []
    deadline = time.monotonic() + args.hold
    while time.monotonic() < deadline:
        status, ms, _ = probe(base + "/healthz")
        during.append((status, ms))
        time.sleep(0.25)
    peak = rss_mb(args.pid)
    # Connections the server closed read EOF (refused over the cap, or idle timeout).
    closed = 0
    for s in sockets:
        try:
            closed += 1 if s.recv(1) == b"" else 0
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
    for s in sockets:
        s.close()
    time.sleep(2)
    after = rss_mb(args.pid)
    ok = [ms for status, ms in during if status == 200]
    per_connection = (peak - before) * 1024 / held if held else float("nan")
    print(f"idle connections: {len(sockets)} of {args.count} connected in {open_seconds:.1f} s ({failures} connect failures); "
          f"server holds {held}; {closed} closed by the server by the end")
    print(f"node RSS: before {before:.1f} MiB, holding them {peak:.1f} MiB (~{per_connection:.1f} KiB per held connection), "
          f"2 s after closing {after:.1f} MiB (limit {args.rss_limit_mb:.0f} MiB)")
    print(f"well-behaved client: before {base_status} in {base_ms:.1f} ms; while held {len(ok)}/{len(during)} answered 200"
          + (f", max {max(ok):.1f} ms" if ok else "")
          + ("" if len(ok) == len(during) else f"; failures: {sorted({str(s) for s, _ in during if s != 200})[:3]}"))
    if peak > args.rss_limit_mb or not during or len(ok) != len(during):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
