"""Dashboard check in headless Chromium (driven by scripts/browser-test).

Without URLs: starts three `locality node` processes on loopback with their HTTP
gateways, waits until each one's dashboard lists all three members as alive, saves
screenshots and stops the nodes. With URLs: checks those gateways for --expect names.
"""
import argparse
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
        # The transport takes gossip port + 1000 by default; keep it inside the range.
        if port not in ports and port + 1000 < 65536:
            ports.append(port)
    return ports


def wait_http(url, deadline):
    while time.time() < deadline:
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
    gossip = free_ports(len(names))
    http = free_ports(len(names) + 3)[3:]
    processes, urls = [], []
    for index, name in enumerate(names):
        args = [binary, "node", "--name", name, "--bind", f"127.0.0.1:{gossip[index]}",
                "--cluster-key-file", key, "--store", "memory", "--transport", "127.0.0.1:0",
                "--data-dir", os.path.join(workdir, name), HTTP_FLAG, f"127.0.0.1:{http[index]}",
                "--exit-on-stdin-eof", "--log-level", "warning"]
        if index > 0:
            args += ["--seeds", f"127.0.0.1:{gossip[0]}"]
        log = open(os.path.join("artifacts", f"browser-test-{name}.log"), "w")
        processes.append(subprocess.Popen(args, stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT))
        urls.append(f"http://127.0.0.1:{http[index]}/")
    return processes, urls


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


def check(driver, url, expected, timeout, shot):
    driver.get(url)
    deadline = time.time() + timeout
    seen = set()
    while time.time() < deadline:
        seen = alive_members(driver)
        if expected <= seen:
            break
        time.sleep(0.5)
    # One more poll so the ring and activations tables fill in for the screenshot.
    time.sleep(1.5)
    driver.save_screenshot(shot)
    status = driver.find_element(By.ID, "status").text
    ring = {row.get_attribute("data-name") for row in driver.find_elements(By.CSS_SELECTOR, "#ring tbody tr")}
    ok = expected <= seen
    print(f"browser-test: {url}: alive {sorted(seen)}, ring {sorted(ring)}, status '{status}', screenshot {shot}: {'ok' if ok else 'MISSING ' + str(sorted(expected - seen))}")
    return ok


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--expect", default="", help="comma-separated member names every page must show alive")
    parser.add_argument("urls", nargs="*")
    args = parser.parse_args()
    timeout = float(os.environ.get("BROWSER_TEST_TIMEOUT", "60"))
    processes = []
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
            for url in urls:
                if not wait_http(url + "healthz", deadline):
                    print(f"browser-test: {url} never answered /healthz (logs in artifacts/)", file=sys.stderr)
                    return 1
        driver = make_driver()
        try:
            results = [check(driver, url, expected, timeout, os.path.join("artifacts", f"dashboard-{index + 1}.png"))
                       for index, url in enumerate(urls)]
        finally:
            driver.quit()
        print(f"browser-test: {sum(results)} of {len(results)} dashboards show {sorted(expected)}")
        return 0 if all(results) else 1
    finally:
        stop_nodes(processes)


if __name__ == "__main__":
    sys.exit(main())
