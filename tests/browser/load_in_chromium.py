#!/usr/bin/env python3
"""Loads one HTML file in headless Chromium and reports, as JSON on stdout, what a test needs to
judge it: every console message, log entry and uncaught exception, every network request the page
made, and screenshots. For the organization audit report (`--report`) it also types searches into
its filter and counts the accounts left visible, and measures how long loading, filtering and
scrolling take (figures to quote, not to assert on).

Chromium is driven through its DevTools protocol over `--remote-debugging-pipe` (file
descriptors 3 and 4, messages ending in NUL), so this needs nothing but Python's standard library.

    load_in_chromium.py CHROMIUM PAGE OUT_DIR [--report] [--query TEXT]... [--repeat N]
"""

import argparse
import base64
import fcntl
import json
import os
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


class Chromium:
    """A headless Chromium with one page, spoken to over the DevTools pipe."""

    def __init__(self, executable, log_path):
        self.profile = tempfile.mkdtemp(prefix="iam-doctor-chromium-")
        to_browser_r, self.to_browser = os.pipe()
        self.from_browser, from_browser_w = os.pipe()
        # The child's ends are moved above 4 first, so that placing them on 3 and 4 cannot
        # overwrite one with the other.
        child_in = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD_CLOEXEC, 10)
        child_out = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(to_browser_r)
        os.close(from_browser_w)

        def on_3_and_4():
            os.dup2(child_in, 3)
            os.dup2(child_out, 4)

        self.log = open(log_path, "wb")
        self.proc = subprocess.Popen(
            [
                executable,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--remote-debugging-pipe",
                "--user-data-dir=" + self.profile,
                "--no-first-run",
                "--no-default-browser-check",
                # Chromium's own traffic (updates, sync, field trials) is not the page's: keep it
                # off so nothing but the page could make a request.
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-default-apps",
                "--disable-extensions",
                "--disable-quic",
                "--mute-audio",
                "--hide-scrollbars",
                "--window-size=1280,900",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=self.log,
            preexec_fn=on_3_and_4,
            close_fds=False,
        )
        os.close(child_in)
        os.close(child_out)
        self.buffer = b""
        self.next_id = 0
        self.events = []
        self.session = None

    def _read_message(self, deadline):
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("Chromium did not answer in time")
            ready, _, _ = select.select([self.from_browser], [], [], left)
            if not ready:
                continue
            chunk = os.read(self.from_browser, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe (see its log)")
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method, params=None, session=True, timeout=60):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            message["sessionId"] = self.session
        data = json.dumps(message).encode() + b"\0"
        while data:
            data = data[os.write(self.to_browser, data):]
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method, timeout=120):
        """The first event `method` not yet consumed, waiting for it if needed."""
        for i, e in enumerate(self.events):
            if e.get("method") == method:
                return self.events.pop(i)
        deadline = time.monotonic() + timeout
        while True:
            message = self._read_message(deadline)
            if message.get("method") == method:
                return message
            self.events.append(message)

    def drain(self, seconds):
        """Collects the events that arrive in the next `seconds`."""
        deadline = time.monotonic() + seconds
        try:
            while True:
                self.events.append(self._read_message(deadline))
        except TimeoutError:
            pass

    def evaluate(self, expression, timeout=120):
        result = self.send(
            "Runtime.evaluate",
            {"expression": expression, "awaitPromise": True, "returnByValue": True},
            timeout=timeout,
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"evaluating {expression[:60]!r}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, path):
        data = self.send("Page.captureScreenshot", {"format": "png"})["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
        return path

    def close(self):
        try:
            self.send("Browser.close", session=False, timeout=10)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)


# Waits until the page has drawn what the last change did: the frame that applies it, then the
# next one, by which style, layout and paint are done.
NEXT_FRAMES = "new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"


def filter_to(browser, text, only_blocked=False):
    """Types `text` into the report's filter and returns the accounts then shown, the filter's
    own count line and how long it took until the result was drawn."""
    script = """
(async () => {
  const q = document.getElementById('q'), only = document.getElementById('only');
  const t0 = performance.now();
  q.value = %s;
  only.checked = %s;
  q.dispatchEvent(new Event('input'));
  await %s;
  const ms = performance.now() - t0;
  const shown = Array.from(document.querySelectorAll('.acct'))
    .filter(a => a.getClientRects().length > 0)
    .map(a => a.querySelector('summary code').textContent);
  return {ms, shown, count: document.getElementById('count').textContent};
})()""" % (json.dumps(text), "true" if only_blocked else "false", NEXT_FRAMES)
    return browser.evaluate(script)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("chromium")
    parser.add_argument("page")
    parser.add_argument("out_dir")
    parser.add_argument("--report", action="store_true", help="the page is the audit report")
    parser.add_argument("--query", action="append", default=[])
    parser.add_argument("--repeat", type=int, default=1, help="timing runs per measure")
    args = parser.parse_args()

    os.makedirs(args.out_dir, exist_ok=True)
    browser = Chromium(args.chromium, os.path.join(args.out_dir, "chromium.log"))
    result = {}
    try:
        target = browser.send("Target.createTarget", {"url": "about:blank"}, session=False)
        browser.session = browser.send(
            "Target.attachToTarget",
            {"targetId": target["targetId"], "flatten": True},
            session=False,
        )["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            browser.send(domain + ".enable")
        url = "file://" + os.path.abspath(args.page)
        started = time.monotonic()
        browser.send("Page.navigate", {"url": url})
        browser.wait_for("Page.loadEventFired")
        browser.evaluate(NEXT_FRAMES)
        load_wall_ms = (time.monotonic() - started) * 1000
        nav = browser.evaluate(
            "(() => { const n = performance.getEntriesByType('navigation')[0];"
            " return {dom_content_loaded_ms: n.domContentLoadedEventEnd, load_ms: n.loadEventEnd}; })()"
        )
        result["document_url"] = url
        result["timings"] = {"load_to_first_frame_ms": round(load_wall_ms, 1), **nav}
        result["dom_nodes"] = browser.evaluate("document.getElementsByTagName('*').length")
        result["page_bytes"] = os.path.getsize(args.page)
        screenshots = {"overview": browser.screenshot(os.path.join(args.out_dir, "overview.png"))}

        if args.report:
            result["accounts"] = browser.evaluate("document.querySelectorAll('.acct').length")
            result["queries"] = []
            for q in args.query:
                r = filter_to(browser, q)
                result["queries"].append({"query": q, "shown": r["shown"], "count": r["count"]})
            blocked = filter_to(browser, "", only_blocked=True)
            result["blocked_only_shown"] = len(blocked["shown"])
            cleared = filter_to(browser, "")
            result["cleared_shown"] = len(cleared["shown"])

            filter_ms, clear_ms, scroll_ms = [], [], []
            probe = args.query[0] if args.query else "1"
            for _ in range(args.repeat):
                filter_ms.append(filter_to(browser, probe)["ms"])
                clear_ms.append(filter_to(browser, "")["ms"])
                scroll_ms.append(
                    browser.evaluate(
                        "(async () => { const t0 = performance.now();"
                        " window.scrollTo(0, document.documentElement.scrollHeight);"
                        " await %s; const ms = performance.now() - t0;"
                        " window.scrollTo(0, 0); await %s; return ms; })()"
                        % (NEXT_FRAMES, NEXT_FRAMES)
                    )
                )
            result["timings"].update(
                {
                    "filter_ms_median": round(statistics.median(filter_ms), 1),
                    "clear_filter_ms_median": round(statistics.median(clear_ms), 1),
                    "scroll_to_end_ms_median": round(statistics.median(scroll_ms), 1),
                    "runs": args.repeat,
                }
            )
            # What a person would look at after a search: the matches, the first one opened.
            if args.query:
                filter_to(browser, args.query[-1])
                browser.evaluate(
                    "(() => { const a = Array.from(document.querySelectorAll('.acct'))"
                    ".find(a => a.getClientRects().length > 0); if (a) { a.open = true;"
                    " window.scrollBy(0, a.getBoundingClientRect().top - 180); }"
                    " return !!a; })()"
                )
                browser.evaluate(NEXT_FRAMES)
                screenshots["filtered"] = browser.screenshot(
                    os.path.join(args.out_dir, "filtered.png")
                )
        browser.drain(0.5)
        result["screenshots"] = screenshots
    finally:
        browser.close()

    events = browser.events
    result["requests"] = [
        e["params"]["request"]["url"]
        for e in events
        if e.get("method") == "Network.requestWillBeSent"
    ]
    result["console"] = [
        {
            "type": e["params"]["type"],
            "text": " ".join(str(a.get("value", a.get("description", ""))) for a in e["params"]["args"]),
        }
        for e in events
        if e.get("method") == "Runtime.consoleAPICalled"
    ]
    result["log"] = [
        {k: e["params"]["entry"].get(k) for k in ("level", "source", "text", "url")}
        for e in events
        if e.get("method") == "Log.entryAdded"
    ]
    result["exceptions"] = [
        e["params"]["exceptionDetails"].get("text", "")
        + " "
        + str(e["params"]["exceptionDetails"].get("exception", {}).get("description", ""))
        for e in events
        if e.get("method") == "Runtime.exceptionThrown"
    ]
    json.dump(result, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
