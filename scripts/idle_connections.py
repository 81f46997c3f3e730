"""Opens N idle TCP connections to a gateway and checks that the node's memory stays
bounded and a well-behaved client is still answered (driven by scripts/gateway-load).

Usage: idle_connections.py HOST PORT PID [--count 10000] [--rss-limit-mb 512] [--hold 5]
Prints RSS before/after and the well-behaved client's latencies; exits 1 when the RSS
grows past the limit or the client is not answered.
"""
import argparse
import resource
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
            response.read()
            return response.status, (time.monotonic() - start) * 1000
    except Exception as error:  # noqa: BLE001 — reported, not hidden
        return f"{type(error).__name__}: {error}", (time.monotonic() - start) * 1000


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
    url = f"http://{args.host}:{args.port}/healthz"
    before = rss_mb(args.pid)
    base_status, base_ms = probe(url)
    sockets, failures = [], 0
    opened_at = time.monotonic()
    for _ in range(args.count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(True)
        s.settimeout(5)
        try:
            s.connect((args.host, args.port))
            sockets.append(s)
        except OSError:
            failures += 1
            s.close()
    open_seconds = time.monotonic() - opened_at
    time.sleep(1)
    during = []
    deadline = time.monotonic() + args.hold
    while time.monotonic() < deadline:
        during.append(probe(url))
        time.sleep(0.25)
    peak = rss_mb(args.pid)
    # How many of the idle connections the server still holds (a closed one reads EOF).
    alive = 0
    for s in sockets:
        s.setblocking(False)
        try:
            alive += 0 if s.recv(1) == b"" else 1
        except BlockingIOError:
            alive += 1
        except OSError:
            pass
    for s in sockets:
        s.close()
    time.sleep(1)
    after = rss_mb(args.pid)
    ok_probes = [ms for status, ms in during if status == 200]
    print(f"idle connections: opened {len(sockets)} of {args.count} in {open_seconds:.1f} s ({failures} connect failures), "
          f"{alive} still open after {args.hold:.0f} s")
    print(f"node RSS: before {before:.1f} MiB, with connections {peak:.1f} MiB "
          f"({(peak - before) * 1024 / max(1, len(sockets)):.1f} KiB per connection), after closing {after:.1f} MiB (limit {args.rss_limit_mb:.0f} MiB)")
    print(f"well-behaved client: before {base_status} in {base_ms:.1f} ms; during {len(ok_probes)}/{len(during)} answered 200"
          + (f", max {max(ok_probes):.1f} ms" if ok_probes else "")
          + ("" if len(ok_probes) == len(during) else f"; failures: {[s for s, _ in during if s != 200][:3]}"))
    if peak > args.rss_limit_mb or not during or len(ok_probes) != len(during):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
