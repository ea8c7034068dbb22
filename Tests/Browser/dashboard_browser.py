#!/usr/bin/env python3
"""fetchq's dashboard in a real browser: headless Chromium driven by Selenium (chromium-driver).

    dashboard_browser.py FETCHQ_BINARY [SCREENSHOT.png]

Meant to run as the first process of a loopback-only network and PID namespace (DashboardTests
starts it with `unshare -rn --pid --fork --mount-proc --kill-child`), so neither the browser nor
anything it is shown can reach beyond this machine's loopback, and everything it started ends with
it. It ends by itself when its standard input closes (the test that started it went away).

It starts target servers and `fetchq serve` with a token, submits jobs through the API, then
checks what a person would see and do on the page: the token asked once and kept, a job's id and
counts, a failed task's error, a URL holding `<script>` shown as text (and nothing run), pause and resume, cancel,
retry and redeliver, and the hosts table (a slow host at its limit, a paused host with its resume
time). Every wait polls with a deadline; none sleeps. With SCREENSHOT it saves the page with a job
in progress behind a slow host. Prints one `ok ...` line per check; exits 0 when all pass.
"""
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from selenium import webdriver
from selenium.common.exceptions import (
    ElementClickInterceptedException,
    NoSuchElementException,
    StaleElementReferenceException,
    TimeoutException,
)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

TOKEN = "dash-browser-token"
# Generous: the machine has two busy cores, and Chromium starts slowly under load.
DEADLINE = 90
SCRIPT_URL = "http://127.0.0.1:1/<script>document.title='pwned';window.__pwned=1</script>"


def end_with_stdin():
    """Exits (taking the namespace and all in it along) once the parent closes our stdin."""

    def watch():
        while sys.stdin.buffer.read(4096):
            pass
        os._exit(3)

    threading.Thread(target=watch, daemon=True).start()


class Target:
    """A target site on 127.0.0.1: /ok/*, /status/N, /slow/MS, /ratelimit/* (429, Retry-After
    300) and POST /hook (a webhook receiver). It counts the requests it got per path."""

    def __init__(self):
        self.hits = {}
        self.lock = threading.Lock()
        target = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def answer(self, status, body=b"ok", headers=()):
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                target.count(self.path.split("?")[0])
                parts = self.path.split("?")[0].strip("/").split("/")
                if parts[0] == "status":
                    self.answer(int(parts[1]), b"status")
                elif parts[0] == "slow":
                    time.sleep(int(parts[1]) / 1000)
                    self.answer(200)
                elif parts[0] == "ratelimit":
                    self.answer(429, b"slow down", [("Retry-After", "300")])
                else:
                    self.answer(200)

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                target.count(self.path)
                self.answer(200)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.port = self.server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"

    def count(self, path):
        with self.lock:
            self.hits[path] = self.hits.get(path, 0) + 1

    def requests(self, path):
        with self.lock:
            return self.hits.get(path, 0)


class Fetchq:
    """`fetchq serve` with a token, on a port of its choosing, its log in a file."""

    def __init__(self, binary, work):
        self.log_path = os.path.join(work, "serve.log")
        log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [binary, "serve", "--port", "0", "--db", os.path.join(work, "fetchq.db"), "--allow-private-targets",
             "--processes", "1", "--concurrency", "16", "--per-host-concurrency", "2", "--api-token", TOKEN],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={**os.environ, "FETCHQ_PARENT_PID": str(os.getpid())})
        self.port = poll(lambda: self.listening_port(), "fetchq serve listening")
        self.base = f"http://127.0.0.1:{self.port}"

    def listening_port(self):
        if self.process.poll() is not None:
            raise RuntimeError("fetchq serve ended:\n" + self.log())
        for line in self.log().splitlines():
            if "listening" in line and "http.port=" in line:
                return int(line.split("http.port=")[1].split()[0].strip("',\""))
        return None

    def log(self):
        with open(self.log_path) as file:
            return file.read()

    def call(self, method, path, body=None):
        request = urllib.request.Request(
            self.base + path, method=method, data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=70) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            raise RuntimeError(f"{method} {path}: {error.code} {error.read()!r}") from None

    def submit(self, job):
        return self.call("POST", "/v1/jobs", job)

    def wait_completed(self, job_id):
        def completed():
            return self.call("GET", f"/v1/jobs/{job_id}?wait=5")["state"] == "completed" or None

        poll(completed, f"job {job_id} completed")

    def stop(self):
        self.process.kill()
        self.process.wait()


def poll(probe, what, deadline=DEADLINE):
    """The first truthy answer of `probe`, asked until `deadline` seconds have passed."""
    end = time.monotonic() + deadline
    while True:
        answer = probe()
        if answer:
            return answer
        if time.monotonic() > end:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.1)


def browser(work):
    options = webdriver.ChromeOptions()
    direct = "/usr/lib/chromium/chromium"
    options.binary_location = direct if os.path.exists(direct) else "/usr/bin/chromium"
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--no-first-run", "--disable-extensions", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--window-size=1440,1500",
                     f"--user-data-dir={os.path.join(work, 'chromium')}"]:
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service("/usr/bin/chromedriver", log_output=os.path.join(work, "chromedriver.log"))
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(DEADLINE)
    return driver


class Page:
    """The dashboard in the browser, with waits that re-find nodes the page redraws."""

    def __init__(self, driver):
        self.driver = driver
        self.wait = WebDriverWait(
            driver, DEADLINE, poll_frequency=0.2,
            ignored_exceptions=(NoSuchElementException, StaleElementReferenceException))

    def until(self, condition, what):
        try:
            return self.wait.until(lambda driver: condition(driver))
        except TimeoutException:
            raise TimeoutError(f"timed out waiting for {what}") from None

    def read(self, read, what):
        """What `read(driver)` answers, asked again whenever the page redrew a node it was reading
        (the dashboard refreshes itself, so an element found a moment ago can be gone)."""
        return self.until(lambda driver: (read(driver),), f"a reading of {what}")[0]

    def text(self, css):
        return self.read(lambda driver: driver.find_element(By.CSS_SELECTOR, css).text, css)

    def shows(self, css, *pieces):
        """Waits until the element at `css` is displayed and its text holds every piece."""

        def check(driver):
            element = driver.find_element(By.CSS_SELECTOR, css)
            return element.is_displayed() and all(piece in element.text for piece in pieces)

        self.until(check, f"{css} to show {pieces}")

    def click(self, css):
        def attempt(driver):
            try:
                element = driver.find_element(By.CSS_SELECTOR, css)
                if not element.is_enabled():
                    return False
                element.click()
                return True
            except ElementClickInterceptedException:
                return False

        self.until(attempt, f"a click on {css}")


def check(label):
    print(f"ok {label}", flush=True)


def main():
    end_with_stdin()
    binary = sys.argv[1]
    screenshot = sys.argv[2] if len(sys.argv) > 2 else None
    work = tempfile.mkdtemp(prefix="dash-browser-")
    target, slow, limited = Target(), Target(), Target()
    fetchq = Fetchq(binary, work)
    driver = None
    try:
        finished = fetchq.submit({
            "tasks": [{"url": f"{target.base}/ok/{n}"} for n in range(3)]
            + [{"url": f"{target.base}/status/404"}, {"url": SCRIPT_URL}],
            "max_attempts": 1, "callback_url": f"{target.base}/hook", "callback_events": ["job.finished"]})
        fetchq.wait_completed(finished["id"])
        poll(lambda: target.requests("/hook") == 1, "the job.finished webhook")
        pending = fetchq.submit({"tasks": [{"url": f"{target.base}/ok/later/{n}"} for n in range(3)],
                                 "delay_ms": 600000})
        job_a, job_b = finished["id"], pending["id"]

        driver = browser(work)
        page = Page(driver)
        driver.get(fetchq.base + "/")
        page.shows("#token-form", "bearer token")
        driver.find_element(By.ID, "token-input").send_keys(TOKEN)
        driver.find_element(By.CSS_SELECTOR, "#token-form button[type=submit]").click()
        page.shows(f"tr[data-job-id='{job_a}']", job_a, "3 succeeded", "2 failed", "0 queued", "completed")
        page.shows(f"tr[data-job-id='{job_b}']", job_b, "3 queued", "pending")
        assert driver.execute_script("return sessionStorage.getItem('fetchq.token')") == TOKEN
        check("asked for the token, kept it in sessionStorage, listed both jobs with their counts")

        driver.refresh()
        page.shows(f"tr[data-job-id='{job_a}']", job_a)
        assert not driver.find_element(By.ID, "token-form").is_displayed(), "asked for the token again"
        page.shows("#totals-list [data-figure=succeeded]", "3")
        page.shows("#totals-list [data-figure=workers_live]", "1")
        page.shows("#totals-list [data-figure=deliveries_pending]", "0")
        check("a reload keeps the token; totals show tasks by state, workers live, deliveries pending")

        page.click(f"tr[data-job-id='{job_a}'] button.open-job")
        page.shows(f"#job[data-job-id='{job_a}']", job_a, "completed")
        page.shows("#failed-table", "HTTP 404", "connection_failed")
        cells = page.read(
            lambda driver: [cell.text for cell in driver.find_elements(By.CSS_SELECTOR, "#failed-table td.task-url")],
            "the failed tasks' URLs")
        assert SCRIPT_URL in cells, f"the <script> URL is not shown as text: {cells}"
        assert driver.execute_script("return window.__pwned === undefined"), "the task's script ran"
        assert driver.title == "fetchq dashboard", f"title is {driver.title!r}"
        assert driver.execute_script("return document.scripts.length") == 1, "a script element was inserted"
        links = page.read(
            lambda driver: [link.get_attribute("href") for link in driver.find_elements(By.CSS_SELECTOR, "#failed-table a")],
            "the failed tasks' links")
        assert any(link.endswith("/body") for link in links), "no link to a body"
        check("the job shows its failed tasks' errors; the <script> URL is text and nothing ran")

        page.click("#failed-table .links a")
        page.shows("#viewer", "/v1/tasks/", '"state": "failed"')
        check("a task's JSON opens in the viewer, fetched with the token")

        page.shows("#deliveries-table", "job.finished", "delivered")
        page.click("#deliveries-table button.redeliver")
        poll(lambda: target.requests("/hook") == 2, "the redelivered webhook")
        page.shows("#job-message", "will be sent again")
        check("redeliver sends the webhook again")

        retried = next(task for task in fetchq.call("GET", f"/v1/jobs/{job_a}/tasks?state=failed")["tasks"]
                       if task["request"]["url"].endswith("/status/404"))
        page.click(f"#failed-table tr[data-task-id='{retried['id']}'] button.retry-task")
        page.shows("#job-message", "queued again")
        poll(lambda: target.requests("/status/404") == 2, "the retried task's second request")
        check("retry runs a failed task again")

        page.click(f"tr[data-job-id='{job_b}'] button.open-job")
        page.shows(f"#job[data-job-id='{job_b}']", job_b, "pending")
        page.click("#job-pause[data-job-id='%s'][data-paused=false]" % job_b)
        page.shows("#job-message", "Paused")
        page.shows("#job-meta", "paused")
        page.shows(f"tr[data-job-id='{job_b}'] td.job-state", "paused")
        page.shows("#job-pause[data-paused=true]", "Resume job")
        assert fetchq.call("GET", f"/v1/jobs/{job_b}")["paused"] is True, "the job is not paused"
        page.click("#job-pause[data-job-id='%s'][data-paused=true]" % job_b)
        page.shows("#job-message", "Resumed")
        page.shows("#job-pause[data-paused=false]", "Pause job")
        assert fetchq.call("GET", f"/v1/jobs/{job_b}")["paused"] is False, "the job is still paused"
        check("pause shows the job paused, resume shows it running again")
        page.click("#job-cancel[data-job-id='%s']" % job_b)
        page.shows("#job-message", "Canceled 3 tasks")
        page.shows(f"#job[data-job-id='{job_b}'] #job-state", "completed")
        page.shows("#job-counts [data-figure=canceled]", "3")
        page.shows(f"tr[data-job-id='{job_b}']", "3 canceled", "completed")
        check("cancel on a pending job shows it canceled")

        # A job in progress behind a slow host (two slots, each held longer than every check here
        # may wait, so it stays at 2 running and 10 due) and a paused one.
        progress = fetchq.submit({
            "tasks": [{"url": f"{slow.base}/slow/{4 * DEADLINE * 1000}?n={n}"} for n in range(12)]
            + [{"url": f"{limited.base}/ratelimit/{n}"} for n in range(3)]
            + [{"url": f"http://localhost:{target.port}/ok/{n}"} for n in range(40)],
            "timeout_ms": 600000})
        page.click(f"tr[data-job-id='{progress['id']}'] button.open-job")
        page.shows(f"tr[data-host='127.0.0.1:{slow.port}']", "2 / 2", "10")
        page.shows(f"tr.paused[data-host='127.0.0.1:{limited.port}']", "429")
        paused_until = page.text(f"tr[data-host='127.0.0.1:{limited.port}'] td.paused-until")
        assert paused_until not in ("", "—"), "the paused host shows no resume time"
        page.shows("#queued-table", "host_limit")
        page.shows(f"tr[data-job-id='{progress['id']}']", "40 succeeded", "2 running", "pending")
        check("hosts: the slow host at 2 / 2 with 10 due, the paused host highlighted until " + paused_until)
        if screenshot:
            driver.find_element(By.ID, "viewer-close").click()
            page.until(lambda d: not d.find_element(By.ID, "viewer").is_displayed(), "the viewer closed")
            height = driver.execute_script("return document.documentElement.scrollHeight")
            driver.set_window_size(1440, min(max(height + 40, 900), 2400))
            page.shows(f"tr[data-job-id='{progress['id']}']", "40 succeeded")
            driver.save_screenshot(screenshot)
            check(f"screenshot in {screenshot}")

        refused = [entry["message"] for entry in driver.get_log("browser")
                   if "Content Security Policy" in entry["message"] or "Refused" in entry["message"]]
        assert not refused, f"the page broke its own policy: {refused}"
        check("the page kept to its Content-Security-Policy")
        print("dashboard: all checks passed", flush=True)
        return 0
    except Exception as error:  # Report what failed with what the service logged, then fail.
        print(f"FAILED: {type(error).__name__}: {error}", flush=True)
        if driver is not None:
            print("--- page text\n" + driver.find_element(By.TAG_NAME, "body").text, flush=True)
        print("--- fetchq log (tail)\n" + "\n".join(fetchq.log().splitlines()[-30:]), flush=True)
        return 1
    finally:
        if driver is not None:
            driver.quit()
        fetchq.stop()


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)  # Not sys.exit: the stdin watcher is still reading.
