#!/usr/bin/env python3
"""The client of scripts/faults: drives counters through the HTTP gateways while the
script injects a fault, then checks that no acknowledged increment is lost and nothing
phantom is stored. Standard library only.

  faults_client.py wait  --gateways A,B,C --members 3 --budget 60
      until every gateway answers /readyz and lists at least --members alive members
      (exit 0), or the budget runs out (exit 1).

  faults_client.py ring --gateway A
      prints the names of the members on that gateway's ring.

  faults_client.py drive --scenario NAME --gateways A,B,C --control DIR [options]
      1. waits until the cluster is ready (as `wait`);
      2. with --idempotency > 0, checks that the server honours Idempotency-Key (the same
         key sent twice must add 1, not 2);
      3. drives `increment {"by":1}` on --ids counters from --threads threads (each thread
         owns its counters, so a counter sees one call at a time), every call through a
         random gateway. Creates DIR/driving when it starts (DIR/aborted too if it never
         will: cluster not ready, no idempotency); the script creates DIR/fault
         when it injects the fault, DIR/healed once it healed it and DIR/stop to end the
         drive (--max-drive bounds it anyway);
      4. lets the idempotent increments still unresolved retry for up to --settle seconds;
      5. reads every counter's stored total (storedValue reads the store, not memory) and
         checks, per counter: acknowledged <= stored <= acknowledged + may-have-run, and
         stored == acknowledged for the counters driven with idempotency keys.
      Prints one line of figures on stdout; exit 0 when every check passed, 1 otherwise.

An answer is one of: acknowledged (200; or 409 already_applied to a retried idempotency
key: it ran once and committed); refused, so not applied (503 overloaded, unavailable,
storage_unavailable, ...; 409 conflict; 429; a connection that could not be opened);
may have run (504 outcome_unknown or deadline_exceeded, 500, 502, a reset or timeout
after the request was sent). A plain counter's call is never retried: the next call is
a new increment. An idempotent counter's increment gets a fresh key and is retried under
that key, through any gateway, until it is acknowledged.

Also checked on the fly: every 200 returns a total within the same bounds (a lower total
would mean an acknowledged write was lost, a stale activation served it); an idempotent
counter's 200 (first answer or replay) must return exactly acknowledged-so-far + 1.
DIR/problems (written by the script: a node that did not exit or come back, ...) is
added to the verdict, so each scenario reports in one line.
"""

import argparse
import http.client
import json
import os
import random
import select
import socket
import sys
import threading
import time
import urllib.parse
import uuid
from collections import Counter

SLOW_MS = 500  # calls slower than this waited out the fault (failover, retransmits)
REFUSED_STATUSES = {503, 429}


def log(message):
    print(f"faults: {message}", file=sys.stderr, flush=True)


def percentile(values, p):
    if not values:
        return 0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100.0 * (len(ordered) - 1))))]


class NotSent(Exception):
    """The connection could not be opened: the request never left the client."""

    def __init__(self, name):
        super().__init__(name)
        self.name = name


def transport_failure(exc):
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return "timeout"
    if isinstance(exc, ConnectionRefusedError):
        return "conn_refused"
    if isinstance(exc, (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected)):
        return "conn_reset"
    if isinstance(exc, OSError) and exc.errno is not None:
        return f"os_errno_{exc.errno}"
    return type(exc).__name__


class Gateway:
    """One node's HTTP gateway: a keep-alive connection per thread, remade after an error."""

    def __init__(self, address, timeout_s):
        host, port = address.rsplit(":", 1)
        self.host, self.port, self.address = host, int(port), address
        self.timeout_s = timeout_s
        self.local = threading.local()
        self.down_until = 0.0  # after a failed connect, other gateways are preferred for a second

    def request(self, method, path, body=None, headers=None):
        """(status, headers, parsed JSON or None). Raises NotSent when the connection could
        not be opened, OSError/HTTPException for a failure after the request was sent."""
        connection = getattr(self.local, "connection", None)
        if connection is not None and self.dropped(connection):
            connection.close()  # the server closed it while idle (a restart, a drain)
            connection = self.local.connection = None
        if connection is None:
            connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout_s)
            try:
                connection.connect()
            except OSError as exc:
                connection.close()
                self.down_until = time.monotonic() + 1.0
                raise NotSent(transport_failure(exc)) from exc
            self.local.connection = connection
        all_headers = dict(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            all_headers["Content-Type"] = "application/json"
        try:
            connection.request(method, path, body=data, headers=all_headers)
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
        return response.status, response.headers, parsed

    @staticmethod
    def dropped(connection):
        """Whether an idle keep-alive connection was closed by the server: readable with
        nothing sent means EOF or a reset. Without this check a request sent into it would
        fail and count as may-have-run although no server saw it."""
        if connection.sock is None:
            return True
        try:
            readable, _, _ = select.select([connection.sock], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)

    def close(self):
        connection = getattr(self.local, "connection", None)
        if connection is not None:
            connection.close()
            self.local.connection = None


class Cluster:
    def __init__(self, addresses, call_timeout_ms):
        self.call_timeout_ms = call_timeout_ms
        # The socket waits past the call's deadline: the gateway answers 504 itself first.
        self.gateways = [Gateway(a, call_timeout_ms / 1000.0 + 3.0) for a in addresses]

    def pick(self, rng):
        now = time.monotonic()
        up = [g for g in self.gateways if g.down_until <= now]
        return rng.choice(up or self.gateways)

    def call(self, gateway, kind, key, method, arguments, idempotency_key=None):
        path = f"/v1/actors/{kind}/{urllib.parse.quote(key, safe='')}/{method}"
        headers = {"X-Locality-Timeout-Ms": str(self.call_timeout_ms)}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        return gateway.request("POST", path, arguments, headers)

    def call_until_ok(self, kind, key, method, arguments=None, budget_s=30.0):
        """A read retried (any gateway) until it is answered 200; the body."""
        rng = random.Random()
        deadline = time.monotonic() + budget_s
        last = None
        while time.monotonic() < deadline:
            gateway = self.pick(rng)
            try:
                status, _, body = self.call(gateway, kind, key, method, arguments if arguments is not None else {})
                if status == 200:
                    return body
                last = f"http {status} {body}"
            except NotSent as exc:
                last = exc.name
            except (OSError, http.client.HTTPException) as exc:
                last = transport_failure(exc)
            time.sleep(0.2)
        raise RuntimeError(f"{kind}/{key}.{method} never answered 200 within {budget_s:.0f}s (last: {last})")

    def wait_ready(self, members, budget_s):
        """Until every gateway is ready and lists `members` alive members; the seconds taken."""
        started = time.monotonic()
        deadline = started + budget_s
        last = "no answer"
        while time.monotonic() < deadline:
            ready = 0
            for gateway in self.gateways:
                try:
                    status, _, _ = gateway.request("GET", "/readyz")
                    status_m, _, view = gateway.request("GET", "/v1/cluster/members")
                except (NotSent, OSError, http.client.HTTPException) as exc:
                    last = f"{gateway.address}: {getattr(exc, 'name', None) or transport_failure(exc)}"
                    gateway.close()
                    continue
                alive = sorted(m.get("name") for m in (view or {}).get("members", []) if m.get("state") == "alive")
                if status == 200 and status_m == 200 and len(alive) >= members:
                    ready += 1
                else:
                    last = f"{gateway.address}: readyz {status}, alive {alive}"
            if ready == len(self.gateways):
                for gateway in self.gateways:
                    gateway.close()  # the waiting thread's connections are not reused
                return time.monotonic() - started
            time.sleep(0.25)
        raise RuntimeError(f"the cluster was not ready within {budget_s:.0f}s ({last})")


def classify(status, body):
    """'acked', 'refused' (not applied) or 'maybe' (may have run), and an error name."""
    error = body.get("error", {}) if isinstance(body, dict) and isinstance(body.get("error"), dict) else {}
    code = error.get("code")
    if status == 200:
        return "acked", None
    name = code or f"http{status}"
    if status == 409 and code == "already_applied":
        return "acked", name
    if status in REFUSED_STATUSES or (status == 409 and code == "conflict"):
        return "refused", name
    if status in (400, 404, 413, 422):  # rejected before running; never expected here
        return "refused", f"unexpected_{name}"
    return "maybe", name  # 504 outcome_unknown/deadline_exceeded, 500, 502, anything else


class CounterRecord:
    def __init__(self, name, idempotent):
        self.name = name
        self.idempotent = idempotent
        self.acked = 0  # increments acknowledged (for an idempotent counter: keys resolved)
        self.maybe = 0  # plain counter: calls that may have run
        self.unresolved = 0  # idempotent counter: keys still unresolved when the settle ended
        self.stored = None


class Driver:
    def __init__(self, args):
        self.args = args
        self.cluster = Cluster(args.gateways.split(","), args.call_timeout_ms)
        count_idem = int(round(args.ids * args.idempotency))
        self.counters = [
            CounterRecord(f"{args.id_prefix}-{i:02d}", idempotent=i < count_idem) for i in range(args.ids)]
        self.lock = threading.Lock()
        self.errors = Counter()
        self.error_times = []  # (answered at, error name)
        self.acked_sent_at = []
        self.latencies_ms = []
        self.problems = []
        self.attempts = 0
        self.idem_keys = 0
        self.idem_retried = 0  # keys acknowledged only after a retry
        self.idem_already_applied = 0
        self.bad_replies = 0
        self.started = None
        self.fault_at = None
        self.healed_at = None
        self.stop = threading.Event()  # no new increments
        self.settle_deadline = None  # idempotent retries end here

    def problem(self, text):
        with self.lock:
            self.problems.append(text)

    def now(self):
        return time.monotonic() - self.started

    # Idempotency probe ----------------------------------------------------------------

    def probe_idempotency(self):
        """The same key twice must add 1: a server that ignores the header adds 2."""
        name = f"{self.args.id_prefix}-probe"
        before = self.cluster.call_until_ok("counter", name, "storedValue")
        key = str(uuid.uuid4())
        answers = []
        gateway = self.cluster.gateways[0]
        for _ in range(2):
            deadline = time.monotonic() + 20
            while True:
                try:
                    status, _, body = self.cluster.call(gateway, "counter", name, "increment", {"by": 1}, key)
                except (NotSent, OSError, http.client.HTTPException) as exc:
                    status, body = None, str(exc)
                outcome, _ = classify(status, body) if status else ("maybe", None)
                if outcome == "acked" or time.monotonic() > deadline:
                    answers.append((status, body))
                    break
                time.sleep(0.3)
        after = self.cluster.call_until_ok("counter", name, "storedValue")
        if after - before != 1:
            raise RuntimeError(
                f"the server does not honour Idempotency-Key: one key sent twice added {after - before} "
                f"(answers {answers}); set LOCALITY_FAULTS_IDEMPOTENCY=0 for a binary without it")

    # Driving --------------------------------------------------------------------------

    def record(self, name, sent_at, latency_ms, outcome):
        """Counts an answer (its error by the time it came, for window_errors)."""
        with self.lock:
            self.attempts += 1
            self.latencies_ms.append(latency_ms)
            if name and not (outcome == "acked" and name == "already_applied"):
                self.errors[name] += 1
                self.error_times.append((sent_at + latency_ms / 1000.0, name))
            if outcome == "acked":
                self.acked_sent_at.append(sent_at)

    def window_figures(self):
        """Errors answered between the fault and the recovery; increments acknowledged
        that were sent after the recovery."""
        window = Counter()
        if self.fault_at is not None:
            end = self.healed_at if self.healed_at is not None else float("inf")
            window.update(name for at, name in self.error_times if self.fault_at <= at <= end)
        after = sum(1 for at in self.acked_sent_at if self.healed_at is not None and at > self.healed_at)
        return window, after

    def attempt(self, rng, counter, key=None):
        """One call; (outcome, error name, total or None)."""
        gateway = self.cluster.pick(rng)
        sent_at = self.now()
        t0 = time.monotonic()
        total = None
        try:
            status, _, body = self.cluster.call(gateway, "counter", counter.name, "increment", {"by": 1}, key)
            outcome, name = classify(status, body)
            if status == 200:
                if isinstance(body, int) and not isinstance(body, bool):
                    total = body
                else:
                    outcome, name = "maybe", "bad_body"
                    self.problem(f"{counter.name}: 200 with body {body!r}")
        except NotSent as exc:
            outcome, name = "refused", exc.name
        except (OSError, http.client.HTTPException) as exc:
            outcome, name = "maybe", transport_failure(exc)
        self.record(name, sent_at, (time.monotonic() - t0) * 1000.0, outcome)
        return outcome, name, total

    def check_total(self, counter, total, tries=1):
        """A 200's total against what was acknowledged before it (see the module doc)."""
        low = counter.acked + 1
        high = low if counter.idempotent else low + counter.maybe
        if not low <= total <= high:
            with self.lock:
                self.bad_replies += 1
            self.problem(f"{counter.name}: 200 (attempt {tries} of its key) returned total {total}, expected {low}..{high} "
                         f"(acknowledged before it {counter.acked}, may-have-run {counter.maybe})")

    def plain_increment(self, rng, counter):
        outcome, name, total = self.attempt(rng, counter)
        if outcome == "acked":
            self.check_total(counter, total)
            counter.acked += 1
        elif outcome == "maybe":
            counter.maybe += 1
        if outcome != "acked":
            time.sleep(0.1 if name == "conn_refused" else 0.02)  # no hot loop against a refusing gateway

    def idempotent_increment(self, rng, counter):
        key = str(uuid.uuid4())
        with self.lock:
            self.idem_keys += 1
        backoff = 0.05
        tries = 0
        while True:
            tries += 1
            outcome, name, total = self.attempt(rng, counter, key)
            if outcome == "acked":
                with self.lock:
                    self.idem_retried += tries > 1
                    self.idem_already_applied += name == "already_applied"
                if total is not None:
                    self.check_total(counter, total, tries)
                counter.acked += 1
                return
            if self.settle_deadline is not None and time.monotonic() > self.settle_deadline:
                counter.unresolved += 1  # it may have run: the checks count it so
                return
            time.sleep(backoff)
            backoff = min(backoff * 2, 0.5)

    def worker(self, counters, seed, hard_stop):
        rng = random.Random(seed)
        while not self.stop.is_set() and time.monotonic() < hard_stop:
            counter = rng.choice(counters)
            if counter.idempotent:
                self.idempotent_increment(rng, counter)
            else:
                self.plain_increment(rng, counter)
        for gateway in self.cluster.gateways:
            gateway.close()

    def marked_at(self, path):
        """When the script created a marker file (its mtime, on this run's clock), or None."""
        try:
            age = time.time() - os.stat(path).st_mtime
        except FileNotFoundError:
            return None
        return self.now() - max(0.0, age)

    def watch_control(self, control, hard_stop):
        """Notes when the script injected and healed the fault; returns at DIR/stop."""
        while time.monotonic() < hard_stop:
            if self.fault_at is None:
                self.fault_at = self.marked_at(os.path.join(control, "fault"))
            if self.healed_at is None:
                self.healed_at = self.marked_at(os.path.join(control, "healed"))
            if os.path.exists(os.path.join(control, "stop")):
                return
            time.sleep(0.05)
        self.problem(f"no stop from the script within --max-drive {self.args.max_drive:.0f}s")

    def drive(self):
        args = self.args
        threads = []
        self.started = time.monotonic()
        hard_stop = self.started + args.max_drive
        for t in range(args.threads):
            mine = self.counters[t :: args.threads]
            if not mine:
                continue
            thread = threading.Thread(target=self.worker, args=(mine, args.seed + t, hard_stop), daemon=True)
            threads.append(thread)
            thread.start()
        open(os.path.join(args.control, "driving"), "w").close()
        self.watch_control(args.control, hard_stop)
        drove = self.now()
        self.settle_deadline = time.monotonic() + args.settle
        self.stop.set()
        for thread in threads:
            thread.join(timeout=max(0.0, self.settle_deadline - time.monotonic()) + args.call_timeout_ms / 1000.0 + 5)
            if thread.is_alive():
                raise RuntimeError("a driving thread did not stop")
        return drove

    # Checks ---------------------------------------------------------------------------

    def verify(self):
        lost = phantom = idem_mismatch = 0
        for counter in self.counters:
            counter.stored = self.cluster.call_until_ok("counter", counter.name, "storedValue")
            stored = counter.stored
            if not isinstance(stored, int) or isinstance(stored, bool):
                self.problem(f"{counter.name}: storedValue answered {stored!r}, not a number")
                continue
            high = counter.acked + counter.maybe + counter.unresolved
            if stored < counter.acked:
                lost += counter.acked - stored
                self.problem(f"{counter.name}: LOST stored {stored} < acknowledged {counter.acked}")
            elif stored > high:
                phantom += stored - high
                self.problem(f"{counter.name}: PHANTOM stored {stored} > acknowledged {counter.acked} "
                             f"+ may-have-run {counter.maybe + counter.unresolved}")
            if counter.idempotent and (stored != counter.acked or counter.unresolved):
                idem_mismatch += 1
                self.problem(f"{counter.name}: idempotent counter stored {stored} != acknowledged {counter.acked} "
                             f"({counter.unresolved} keys unresolved)")
        return lost, phantom, idem_mismatch


def command_wait(args):
    cluster = Cluster(args.gateways.split(","), 3000)
    try:
        took = cluster.wait_ready(args.members, args.budget)
    except RuntimeError as error:
        log(str(error))
        return 1
    if args.verbose:
        log(f"ready after {took:.1f}s: {args.gateways}")
    return 0


def command_ring(args):
    gateway = Gateway(args.gateway, 5.0)
    try:
        status, _, ring = gateway.request("GET", "/v1/cluster/ring")
    except (NotSent, OSError, http.client.HTTPException) as exc:
        log(f"ring of {args.gateway}: {getattr(exc, 'name', None) or transport_failure(exc)}")
        return 1
    if status != 200:
        log(f"ring of {args.gateway}: http {status} {ring}")
        return 1
    print(" ".join(sorted(m.get("name", "?") for m in (ring or {}).get("members", []))))
    return 0


def command_drive(args):
    driver = Driver(args)
    drove = 0.0
    lost = phantom = idem_mismatch = 0
    try:
        driver.cluster.wait_ready(args.members, args.ready_budget)
        if args.idempotency > 0:
            driver.probe_idempotency()
        drove = driver.drive()
        lost, phantom, idem_mismatch = driver.verify()
    except RuntimeError as error:
        driver.problem(f"aborted: {error}")
        for marker in ("aborted", "driving"):  # the script must not wait for the drive
            open(os.path.join(args.control, marker), "a").close()
    problems_file = os.path.join(args.control, "problems")
    if os.path.exists(problems_file):
        with open(problems_file) as f:
            for line in f.read().splitlines():
                if line.strip():
                    driver.problem(f"script: {line.strip()}")
    window_errors, acked_after_heal = driver.window_figures()
    if driver.started is not None and acked_after_heal == 0:
        driver.problem("no increment was acknowledged after the heal")
    for problem in driver.problems[:20]:
        log(f"{args.scenario}: PROBLEM {problem}")
    if len(driver.problems) > 20:
        log(f"{args.scenario}: ... {len(driver.problems) - 20} more problems")

    acked = sum(c.acked for c in driver.counters)
    maybe = sum(c.maybe for c in driver.counters)
    unresolved = sum(c.unresolved for c in driver.counters)
    slow = [ms for ms in driver.latencies_ms if ms > SLOW_MS]

    def table(counter):
        return "{" + ",".join(f"{k}:{v}" for k, v in sorted(counter.items())) + "}"

    timing = ""
    if driver.fault_at is not None:
        timing = f" fault_at={driver.fault_at:.1f}s"
        if driver.healed_at is not None:
            timing += f" healed_after={driver.healed_at - driver.fault_at:.1f}s"
    verdict = "OK" if not driver.problems else f"FAILED({len(driver.problems)})"
    idem = ""
    if args.idempotency > 0:
        idem = (f" idem_keys={driver.idem_keys} idem_retried={driver.idem_retried}"
                f" idem_already_applied={driver.idem_already_applied} idem_unresolved={unresolved}"
                f" idem_mismatch={idem_mismatch}")
    print(
        f"faults: {args.scenario} acked={acked} acked/s={acked / drove if drove else 0:.0f} "
        f"p99_ms={percentile(driver.latencies_ms, 99):.0f} slow>{SLOW_MS}ms={len(slow)} "
        f"slow_p99_ms={percentile(slow, 99):.0f} may_have_run={maybe} errors={table(driver.errors)} "
        f"window_errors={table(window_errors)}{timing} lost={lost} phantom={phantom} "
        f"bad_replies={driver.bad_replies}{idem} {verdict}",
        flush=True)
    return 0 if not driver.problems else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    wait = sub.add_parser("wait", help="wait until the cluster is ready")
    wait.add_argument("--gateways", required=True, help="host:port,host:port,...")
    wait.add_argument("--members", type=int, required=True, help="alive members each gateway must list")
    wait.add_argument("--budget", type=float, default=60)
    wait.add_argument("--verbose", action="store_true")
    ring = sub.add_parser("ring", help="print the names of the members on a gateway's ring")
    ring.add_argument("--gateway", required=True, help="host:port")
    drive = sub.add_parser("drive", help="drive counters around a fault and check them")
    drive.add_argument("--scenario", required=True)
    drive.add_argument("--gateways", required=True, help="host:port,host:port,...")
    drive.add_argument("--members", type=int, required=True, help="alive members each gateway must list before driving")
    drive.add_argument("--control", required=True, help="directory of the marker files (driving, fault, healed, stop, problems)")
    drive.add_argument("--id-prefix", required=True, help="counter ids are PREFIX-00, PREFIX-01, ...")
    drive.add_argument("--ids", type=int, default=40)
    drive.add_argument("--threads", type=int, default=12)
    drive.add_argument("--idempotency", type=float, default=0.5, help="fraction of the counters driven with Idempotency-Key (0: none)")
    drive.add_argument("--call-timeout-ms", type=int, default=3000, help="X-Locality-Timeout-Ms of every call")
    drive.add_argument("--ready-budget", type=float, default=60)
    drive.add_argument("--max-drive", type=float, default=150, help="the drive ends here without DIR/stop")
    drive.add_argument("--settle", type=float, default=20, help="seconds the unresolved idempotent increments keep retrying after DIR/stop")
    drive.add_argument("--seed", type=int, default=int(time.time()))
    args = parser.parse_args()
    if args.command == "wait":
        return command_wait(args)
    if args.command == "ring":
        return command_ring(args)
    if not 0 <= args.idempotency <= 1:
        parser.error("--idempotency is a fraction between 0 and 1")
    return command_drive(args)


if __name__ == "__main__":
    sys.exit(main())
