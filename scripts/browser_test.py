"""Dashboard check in headless Chromium (driven by scripts/browser-test).

Without URLs: starts three `locality node` processes on loopback with their HTTP
gateways, waits until each one's dashboard lists all three members as alive, saves
screenshots and stops the nodes. With URLs: checks those gateways for --expect names.
"""
import argparse
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

HTTP_FLAG = os.environ.get("LOCALITY_HTTP_FLAG", "--http")


def free_ports(count):
    """Distinct loopback ports free for TCP and UDP right now."""
    ports = []
    while len(ports) < count:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind(("127.0.0.1", 0))
            port = tcp.getsockname()[1]
            try:
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                    udp.bind(("127.0.0.1", port))
            except OSError:
                continue
        if port not in ports:
            ports.append(port)
    return ports


def wait_http(url, deadline, process=None):
    while time.time() < deadline:
        if process is not None and process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.2)
    return False


def start_nodes(binary, names, workdir):
    key = os.path.join(workdir, "cluster.key")
    with open(key, "w") as f:
        f.write(secrets.token_hex(32) + "\n")
    ports = free_ports(3 * len(names))
    gossip, transport, http = ports[0::3], ports[1::3], ports[2::3]
    processes, urls = [], []
    for index, name in enumerate(names):
        args = [binary, "node", "--name", name, "--bind", f"127.0.0.1:{gossip[index]}",
                "--cluster-key-file", key, "--store", "memory", "--transport", f"127.0.0.1:{transport[index]}",
                "--data-dir", os.path.join(workdir, name), HTTP_FLAG, f"127.0.0.1:{http[index]}",
                "--exit-on-stdin-eof", "--log-level", "warning"]
        if index > 0:
            args += ["--seeds", f"127.0.0.1:{gossip[0]}"]
        log = open(os.path.join("artifacts", f"browser-test-{name}.log"), "w")
        processes.append(subprocess.Popen(args, stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT))
        urls.append(f"http://127.0.0.1:{http[index]}/")
    return processes, urls


def ring_size(url):
    try:
        with urllib.request.urlopen(url + "v1/cluster/ring", timeout=2) as response:
            return len(json.load(response)["members"])
    except (OSError, ValueError, KeyError):
        return 0


def call_players(url, count):
    """Activates `count` player actors through one node's gateway (each on its owner)."""
    for index in range(count):
        request = urllib.request.Request(url + f"v1/actors/player/browser-{index}/recordMatch",
                                         data=b'{"points":3,"won":true}', headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()


def stop_nodes(processes):
    for process in processes:
        try:
            process.stdin.close()
        except OSError:
            pass
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def make_driver():
    options = Options()
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000"]:
        options.add_argument(argument)
    options.binary_location = "/usr/bin/chromium"
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def alive_members(driver):
    rows = driver.find_elements(By.CSS_SELECTOR, "#members tbody tr")
    return {row.get_attribute("data-name") for row in rows if row.get_attribute("data-state") == "alive"}


def activation_total(driver):
    total = 0
    for cell in driver.find_elements(By.CSS_SELECTOR, "#activations tbody tr td:nth-child(2)"):
        total += int(cell.text) if cell.text.isdigit() else 0
    return total


def check(driver, url, expected, timeout, shot, activations=None):
    """Waits until the page shows `expected` alive (and, if given, `activations` live
    activations summed over the nodes, read from every node's gateway)."""
    driver.get(url)
    deadline = time.time() + timeout
    seen, total = set(), 0
    while time.time() < deadline:
        seen = alive_members(driver)
        total = activation_total(driver)
        if expected <= seen and (activations is None or total == activations):
            break
        time.sleep(0.5)
    # One more poll so the ring and activations tables fill in for the screenshot.
    time.sleep(1.5)
    driver.save_screenshot(shot)
    status = driver.find_element(By.ID, "status").text
    ring = {row.get_attribute("data-name") for row in driver.find_elements(By.CSS_SELECTOR, "#ring tbody tr")}
    ok = expected <= seen and (activations is None or total == activations)
    shown = "" if activations is None else f", activations {total} of {activations}"
    print(f"browser-test: {url}: alive {sorted(seen)}, ring {sorted(ring)}{shown}, status '{status}', screenshot {shot}: "
          + ("ok" if ok else "MISSING " + str(sorted(expected - seen))))
    return ok


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--expect", default="", help="comma-separated member names every page must show alive")
    parser.add_argument("urls", nargs="*")
    args = parser.parse_args()
    timeout = float(os.environ.get("BROWSER_TEST_TIMEOUT", "60"))
    processes, activations = [], None
    workdir = tempfile.mkdtemp(prefix="locality-browser-")
    try:
        if args.urls:
            urls, expected = args.urls, {n for n in args.expect.split(",") if n}
            if not expected:
                print("browser-test: --expect is required with URLs", file=sys.stderr)
                return 2
        else:
            binary = os.environ.get("LOCALITY_BIN", ".build/debug/locality")
            if not os.path.exists(binary):
                print(f"browser-test: {binary} not built (swift build)", file=sys.stderr)
                return 2
            names = ["web1", "web2", "web3"]
            processes, urls = start_nodes(binary, names, workdir)
            expected = set(names)
            deadline = time.time() + timeout
            for process, url in zip(processes, urls):
                if not wait_http(url + "healthz", deadline, process):
                    print(f"browser-test: {url} never answered /healthz (logs in artifacts/)", file=sys.stderr)
                    return 1
            while time.time() < deadline and min(ring_size(url) for url in urls) < len(names):
                time.sleep(0.2)
            # Some traffic, so the activation counts and the chart have something to show.
            activations = 30
            call_players(urls[0], activations)
        driver = make_driver()
        try:
            results = [check(driver, url, expected, timeout, os.path.join("artifacts", f"dashboard-{index + 1}.png"), activations)
                       for index, url in enumerate(urls)]
        finally:
            driver.quit()
        print(f"browser-test: {sum(results)} of {len(results)} dashboards show {sorted(expected)}")
        return 0 if all(results) else 1
    finally:
        stop_nodes(processes)


if __name__ == "__main__":
    sys.exit(main())
