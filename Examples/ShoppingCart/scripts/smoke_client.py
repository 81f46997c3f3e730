#!/usr/bin/env python3
"""Drives the ShoppingCart example through its HTTP gateways and checks its invariants.

Started by scripts/smoke with three running nodes. Phases, each bounded in time:
  1. wait until every gateway is ready and sees every member alive;
  2. restock the SKUs;
  3. drive carts from several threads for --duration seconds (add, remove, checkout,
     reads), SIGKILL one node at --kill-at seconds and keep driving through the others;
  4. verify, through the gateways: every inventory item has available >= 0 and
     available + held + sold == received; every acknowledged add is in its cart's
     stored state (lines + orders + a pending order >= acknowledged adds - requested
     removes); per SKU, available + the carts' reserved lines + sold <= received, and
     the units in the carts' orders <= sold;
  5. wait until every hold has lapsed (the inventory timer returns them): held == 0,
     available + sold == received, no cart shows a reserved line.
A call that got an error or timed out is not acknowledged: it may or may not have
applied, so the checks allow a cart to hold more than acknowledged, never less.
Prints one summary line; exit status 0 only if every check passed.
"""

import argparse
import http.client
import json
import os
import random
import signal
import socket
import sys
import threading
import time
import urllib.parse
from collections import Counter, defaultdict

CALL_TIMEOUT_MS = 5000
HTTP_TIMEOUT_S = 8.0


def log(message):
    print(f"smoke: {message}", file=sys.stderr, flush=True)


class Gateway:
    """One node's HTTP gateway; a connection per thread, remade after any error."""

    def __init__(self, address, name):
        host, port = address.rsplit(":", 1)
        self.host, self.port, self.name = host, int(port), name
        self.alive = True
        self.local = threading.local()

    def request(self, method, path, body=None):
        """(status, parsed JSON or None); raises OSError/HTTPException on transport errors."""
        connection = getattr(self.local, "connection", None)
        if connection is None:
            connection = http.client.HTTPConnection(self.host, self.port, timeout=HTTP_TIMEOUT_S)
            self.local.connection = connection
        headers = {"X-Locality-Timeout-Ms": str(CALL_TIMEOUT_MS)}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            raw = response.read()
        except Exception:
            connection.close()
            self.local.connection = None
            raise
        if response.getheader("Connection", "").lower() == "close":
            connection.close()
            self.local.connection = None
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        return response.status, parsed

    def call(self, kind, key, method, arguments=None):
        path = f"/v1/actors/{kind}/{urllib.parse.quote(key, safe='')}/{method}"
        return self.request("POST", path, arguments if arguments is not None else {})


def classify(status, body):
    """'ok', ('rejected', name) for a definite refusal by the service, ('failed', name) otherwise."""
    if status == 200:
        return "ok", None
    error = (body or {}).get("error", {}) if isinstance(body, dict) else {}
    if status == 422 and error.get("type") in ("CartError", "InventoryError"):
        detail = error.get("detail")
        case = next(iter(detail)) if isinstance(detail, dict) and detail else (detail or "unknown")
        return "rejected", f"{error['type']}.{case}"
    return "failed", f"http{status}_{error.get('code', 'nobody')}"


def transport_failure(exc):
    if isinstance(exc, socket.timeout) or isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, ConnectionRefusedError):
        return "conn_refused"
    if isinstance(exc, (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected)):
        return "conn_reset"
    return type(exc).__name__


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.attempted = 0
        self.acknowledged = 0
        self.acknowledged_after_kill = 0
        self.rejected = Counter()
        self.failed = Counter()
        self.by_op = Counter()
        self.problems = []

    def problem(self, text):
        with self.lock:
            if len(self.problems) < 50:
                self.problems.append(text)


class Shop:
    """The client's record of what was acknowledged, per cart and SKU."""

    def __init__(self, args):
        self.args = args
        self.gateways = [Gateway(a, f"n{i + 1}") for i, a in enumerate(args.gateways.split(","))]
        self.pids = [int(p) for p in args.pids.split(",")]
        self.skus = [f"sku-{i}" for i in range(args.skus)] + ["scarce"]
        self.stats = Stats()
        self.killed_at = None
        self.killed = None
        # cart -> sku -> units; each cart is driven by one thread only.
        self.acked_adds = defaultdict(Counter)
        self.removes = defaultdict(Counter)  # acknowledged or unknown: requested units
        self.believed = defaultdict(Counter)  # what the client thinks the cart holds (for picking removes)
        self.pending_checkout = set()
        self.checkouts = Counter()
        self.acked_restock = Counter()
        self.unknown_restock = Counter()
        self.min_available_seen = None

    def live_gateways(self):
        return [g for g in self.gateways if g.alive]

    def call(self, kind, key, method, arguments=None, gateway=None, count=True):
        """One call through a live gateway; returns (outcome, name, body)."""
        gateway = gateway or random.choice(self.live_gateways())
        try:
            status, body = gateway.call(kind, key, method, arguments)
            outcome, name = classify(status, body)
        except (OSError, http.client.HTTPException) as exc:
            outcome, name, body = "failed", transport_failure(exc), None
        if count:
            with self.stats.lock:
                self.stats.attempted += 1
                self.stats.by_op[method] += 1
                if outcome == "ok":
                    self.stats.acknowledged += 1
                    if self.killed_at is not None:
                        self.stats.acknowledged_after_kill += 1
                elif outcome == "rejected":
                    self.stats.rejected[name] += 1
                else:
                    self.stats.failed[name] += 1
        return outcome, name, body

    def call_until_ok(self, kind, key, method, arguments=None, budget_s=20.0):
        """Retries a read (or an idempotent setup call) until it is answered 200."""
        deadline = time.monotonic() + budget_s
        last = None
        while time.monotonic() < deadline:
            outcome, name, body = self.call(kind, key, method, arguments, count=False)
            if outcome == "ok":
                return body
            last = name
            time.sleep(0.3)
        raise RuntimeError(f"{kind}/{key}.{method} never answered 200 within {budget_s}s (last: {last})")

    # Phase 1 ---------------------------------------------------------------------------

    def wait_ready(self, budget_s=90.0):
        deadline = time.monotonic() + budget_s
        want = len(self.gateways)
        while time.monotonic() < deadline:
            ready = 0
            for gateway in self.gateways:
                try:
                    status, _ = gateway.request("GET", "/readyz")
                    status_m, members = gateway.request("GET", "/v1/cluster/members")
                except (OSError, http.client.HTTPException):
                    continue
                alive = [m for m in (members or {}).get("members", []) if m.get("state") == "alive"]
                if status == 200 and status_m == 200 and len(alive) >= want:
                    ready += 1
            if ready == want:
                return
            time.sleep(0.5)
        raise RuntimeError(f"the cluster was not ready within {budget_s}s")

    # Phase 2 ---------------------------------------------------------------------------

    def restock(self):
        for sku in self.skus:
            left = self.args.scarce_stock if sku == "scarce" else self.args.stock
            deadline = time.monotonic() + 20
            while left > 0:
                units = min(left, 1000)  # the most one restock takes
                outcome, name, _ = self.call("inventory", sku, "restock", {"quantity": units})
                if outcome == "ok":
                    self.acked_restock[sku] += units
                    left -= units
                    continue
                self.unknown_restock[sku] += units
                if outcome == "rejected" or time.monotonic() > deadline:
                    raise RuntimeError(f"restock of {sku} failed: {name}")
                time.sleep(0.3)

    # Phase 3 ---------------------------------------------------------------------------

    def drive(self):
        start = time.monotonic()
        stop_at = start + self.args.duration
        carts = [f"cart-{i:02d}" for i in range(self.args.carts)]
        workers = []
        for w in range(self.args.workers):
            mine = carts[w :: self.args.workers]
            thread = threading.Thread(target=self.worker, args=(mine, stop_at, random.Random(self.args.seed + w)), daemon=True)
            workers.append(thread)
            thread.start()
        kill_at = start + self.args.kill_at
        while time.monotonic() < kill_at:
            time.sleep(0.05)
        victim = self.args.kill_index
        self.gateways[victim].alive = False
        os.kill(self.pids[victim], signal.SIGKILL)
        self.killed = self.gateways[victim].name
        self.killed_at = time.monotonic() - start
        log(f"SIGKILL {self.killed} (pid {self.pids[victim]}) at {self.killed_at:.1f}s")
        for thread in workers:
            thread.join(timeout=self.args.duration + 30)
            if thread.is_alive():
                raise RuntimeError("a driver thread did not stop")
        return time.monotonic() - start

    def worker(self, carts, stop_at, rng):
        per_call_cap = 2000  # bound on calls per thread, whatever the rate
        calls = 0
        while time.monotonic() < stop_at and calls < per_call_cap:
            calls += 1
            cart = rng.choice(carts)
            if cart in self.pending_checkout:
                self.checkout(cart)
                continue
            roll = rng.random()
            held = [s for s, q in self.believed[cart].items() if q > 0]
            if roll < 0.15 and held:
                self.remove(cart, rng.choice(held), rng.randint(1, 2))
            elif roll < 0.22 and held and self.checkouts[cart] < 10:
                self.checkout(cart)
            elif roll < 0.27:
                self.sample_stock(rng.choice(self.skus))
            elif roll < 0.30:
                self.call("cart", cart, "contents")
            else:
                sku = "scarce" if rng.random() < 0.2 else rng.choice(self.skus[:-1])
                self.add(cart, sku, rng.randint(1, 3))

    def add(self, cart, sku, quantity):
        outcome, name, body = self.call("cart", cart, "addItem", {"sku": sku, "quantity": quantity})
        if outcome == "ok":
            self.acked_adds[cart][sku] += quantity
            self.believed[cart] = Counter({s: line["quantity"] for s, line in body["lines"].items()})
            if body["lines"].get(sku, {}).get("quantity", 0) < quantity:
                self.stats.problem(f"{cart}: addItem({sku}, {quantity}) acknowledged with line {body['lines'].get(sku)}")
        elif name == "CartError.checkoutPending":
            self.pending_checkout.add(cart)

    def remove(self, cart, sku, quantity):
        outcome, name, body = self.call("cart", cart, "removeItem", {"sku": sku, "quantity": quantity})
        if outcome == "ok":
            self.removes[cart][sku] += quantity
            self.believed[cart] = Counter({s: line["quantity"] for s, line in body["lines"].items()})
        elif outcome == "failed":
            self.removes[cart][sku] += quantity  # may have applied
        elif name == "CartError.checkoutPending":
            self.pending_checkout.add(cart)
        elif name == "CartError.notInCart":
            self.believed[cart][sku] = 0

    def checkout(self, cart):
        outcome, name, _ = self.call("cart", cart, "checkout")
        self.checkouts[cart] += 1
        if outcome == "ok" or name == "CartError.emptyCart":
            self.pending_checkout.discard(cart)
            self.believed[cart] = Counter()
        elif outcome == "failed":
            self.pending_checkout.add(cart)  # may have started: finish it before changing the cart

    def sample_stock(self, sku):
        outcome, _, body = self.call("inventory", sku, "stock")
        if outcome == "ok":
            available = body["available"]
            with self.stats.lock:
                if self.min_available_seen is None or available < self.min_available_seen:
                    self.min_available_seen = available
            if available < 0:
                self.stats.problem(f"{sku}: available {available} < 0 during the run")

    # Phase 4 ---------------------------------------------------------------------------

    def verify(self):
        problems = []
        figures = {sku: self.call_until_ok("inventory", sku, "stock") for sku in self.skus}
        for sku, f in figures.items():
            if f["available"] < 0:
                problems.append(f"{sku}: available {f['available']} < 0")
            if f["available"] + f["held"] + f["sold"] != f["received"]:
                problems.append(f"{sku}: available+held+sold {f['available'] + f['held'] + f['sold']} != received {f['received']}")
            if not (self.acked_restock[sku] <= f["received"] <= self.acked_restock[sku] + self.unknown_restock[sku]):
                problems.append(f"{sku}: received {f['received']} but {self.acked_restock[sku]} restocked (+{self.unknown_restock[sku]} unknown)")
        reserved = Counter()
        ordered = Counter()
        carts = [f"cart-{i:02d}" for i in range(self.args.carts)]
        for cart in carts:
            state = self.call_until_ok("cart", cart, "storedState")
            now_ms = int(time.time() * 1000)
            held_in = Counter()
            for sku, line in state.get("lines", {}).items():
                held_in[sku] += line["quantity"]
                if line["reservedUntil"] > now_ms:
                    reserved[sku] += line["quantity"]
            for order in state.get("orders", []):
                for sku, q in order.get("items", {}).items():
                    held_in[sku] += q
                    ordered[sku] += q
                for sku, q in order.get("unavailable", {}).items():
                    held_in[sku] += q
            pending = state.get("pending")
            if pending:
                for part in ("items", "unavailable"):
                    for sku, q in pending.get(part, {}).items():
                        held_in[sku] += q
            for sku in set(self.acked_adds[cart]) | set(held_in):
                floor = self.acked_adds[cart][sku] - self.removes[cart][sku]
                if held_in[sku] < floor:
                    problems.append(
                        f"{cart}/{sku}: stored {held_in[sku]} < acknowledged adds {self.acked_adds[cart][sku]} - removes {self.removes[cart][sku]}")
        for sku, f in figures.items():
            if f["available"] + reserved[sku] + f["sold"] > f["received"]:
                problems.append(
                    f"{sku}: available {f['available']} + reserved in carts {reserved[sku]} + sold {f['sold']} > received {f['received']}")
            if ordered[sku] > f["sold"]:
                problems.append(f"{sku}: carts' orders hold {ordered[sku]} > sold {f['sold']}")
        return problems, figures

    # Phase 5 ---------------------------------------------------------------------------

    def verify_expiry(self, drive_end_wall):
        lapse_at = drive_end_wall + self.args.ttl + 1.5
        wait = lapse_at - time.time()
        if wait > 0:
            log(f"waiting {wait:.0f}s for every hold to lapse (hold TTL {self.args.ttl}s)")
            time.sleep(wait)
        problems = []
        expired = 0
        deadline = time.monotonic() + 20
        for sku in self.skus:
            while True:
                f = self.call_until_ok("inventory", sku, "stock")
                if f["held"] == 0 or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            expired += f["expired"]
            if f["held"] != 0 or f["holds"] != 0:
                problems.append(f"{sku}: {f['held']} units still held by {f['holds']} carts after the TTL")
            if f["available"] < 0 or f["available"] + f["sold"] != f["received"]:
                problems.append(f"{sku}: after the TTL available {f['available']} + sold {f['sold']} != received {f['received']}")
        for cart in (f"cart-{i:02d}" for i in range(self.args.carts)):
            view = self.call_until_ok("cart", cart, "contents")
            if view["units"] != 0:
                problems.append(f"{cart}: still shows {view['units']} reserved units after the TTL")
        if expired == 0:
            problems.append("no hold lapsed: the expiry timer returned nothing")
        return problems, expired


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--gateways", required=True, help="host:port,host:port,...")
    parser.add_argument("--pids", required=True, help="node pids, in the order of --gateways")
    parser.add_argument("--kill-index", type=int, default=1)
    parser.add_argument("--duration", type=float, default=20)
    parser.add_argument("--kill-at", type=float, default=8)
    parser.add_argument("--ttl", type=float, required=True, help="the nodes' --hold-ttl-s")
    parser.add_argument("--carts", type=int, default=40)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--skus", type=int, default=6)
    parser.add_argument("--stock", type=int, default=4000)
    parser.add_argument("--scarce-stock", type=int, default=12)
    parser.add_argument("--settle", type=float, default=2, help="seconds between the end of driving and the checks")
    parser.add_argument("--seed", type=int, default=int(time.time()))
    args = parser.parse_args()
    if args.ttl <= args.duration + 2:
        parser.error("--ttl must exceed --duration + 2 (no hold may lapse while carts are driven)")
    random.seed(args.seed)
    shop = Shop(args)
    started = time.monotonic()
    try:
        shop.wait_ready()
        log(f"cluster ready after {time.monotonic() - started:.1f}s; restocking {len(shop.skus)} SKUs")
        shop.restock()
        log(f"driving {args.carts} carts from {args.workers} threads for {args.duration:.0f}s (seed {args.seed})")
        drove = shop.drive()
        drive_end_wall = time.time()
        # A call the client gave up on may still be finishing on a node (up to the
        # runtime's 10 s call timeout): check after a pause, and again after the longest
        # call could have ended if the first check found anything. A lost write or
        # negative stock stays; a call finishing between two reads does not.
        time.sleep(args.settle)
        problems, figures = shop.verify()
        if problems:
            log(f"{len(problems)} problem(s) on the first check, checking again in 11s: {problems[0]}")
            time.sleep(11)
            problems, figures = shop.verify()
        log("checked: " + ", ".join(f"{s} avail={f['available']} held={f['held']} sold={f['sold']} recv={f['received']}" for s, f in figures.items()))
        expiry_problems, expired = shop.verify_expiry(drive_end_wall)
        problems += expiry_problems
    except RuntimeError as error:
        problems, drove, expired = [f"aborted: {error}"], 0, 0
    stats = shop.stats
    problems = stats.problems + problems
    adds_acked = sum(sum(c.values()) for c in shop.acked_adds.values())
    if stats.acknowledged_after_kill == 0:
        problems.append("no call was acknowledged after the kill")
    if adds_acked == 0:
        problems.append("no add was acknowledged")
    for problem in problems:
        log("PROBLEM " + problem)
    failed = ",".join(f"{k}={v}" for k, v in sorted(stats.failed.items())) or "none"
    rejected = ",".join(f"{k}={v}" for k, v in sorted(stats.rejected.items())) or "none"
    result = "OK" if not problems else f"FAILED({len(problems)})"
    print(
        f"smoke summary: attempted={stats.attempted} acknowledged={stats.acknowledged} "
        f"(after kill {stats.acknowledged_after_kill}, units added {adds_acked}) rejected={sum(stats.rejected.values())} [{rejected}] "
        f"failed={sum(stats.failed.values())} [{failed}] killed={shop.killed}@{(shop.killed_at or 0):.1f}s "
        f"drove={drove:.1f}s min_available_seen={shop.min_available_seen} holds_lapsed_units={expired} "
        f"invariants={result}",
        flush=True)
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
