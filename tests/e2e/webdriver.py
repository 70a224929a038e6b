"""A small W3C WebDriver client (standard library only) for driving the real Tandem app
through tauri-driver, which starts the app binary for each session."""

import base64
import http.client
import json
import time
import urllib.error
import urllib.request

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"


class WebDriverError(Exception):
    pass


class Session:
    def __init__(self, app_path, url="http://127.0.0.1:4444"):
        self.url = url
        caps = {"capabilities": {"alwaysMatch": {"tauri:options": {"application": app_path}}}}
        self.id = self._call("POST", "/session", caps)["sessionId"]

    def _call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        # tauri-driver sometimes forwards a command over a connection to WebKitWebDriver that
        # the latter has just closed; it then drops ours without sending the command on
        # ("client error (SendRequest)"), so sending it again is safe.
        for attempt in range(5):
            try:
                with urllib.request.urlopen(req, timeout=120) as r:
                    return json.loads(r.read() or b"{}").get("value")
            except urllib.error.HTTPError as e:
                raise WebDriverError(f"{method} {path}: {e.code} {e.read()[:500]!r}") from None
            except (http.client.RemoteDisconnected, ConnectionResetError):
                if attempt == 4:
                    raise
                time.sleep(0.5)

    def _s(self, path):
        return f"/session/{self.id}{path}"

    def quit(self):
        self._call("DELETE", f"/session/{self.id}")

    def script(self, source, *args):
        return self._call("POST", self._s("/execute/sync"), {"script": source, "args": list(args)})

    def find_all(self, css):
        found = self._call("POST", self._s("/elements"), {"using": "css selector", "value": css})
        return [Element(self, f[ELEMENT]) for f in found]

    def find(self, css, timeout=30):
        return self.wait(lambda: (self.find_all(css) or [None])[0], timeout, f"no element {css}")

    def wait(self, condition, timeout=30, what="condition"):
        end = time.time() + timeout
        while True:
            try:
                value = condition()
            except WebDriverError:
                value = None
            if value:
                return value
            if time.time() > end:
                raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
            time.sleep(0.1)

    def testid(self, name, timeout=30):
        return self.find(f'[data-testid="{name}"]', timeout)

    def screenshot(self, path):
        png = self._call("GET", self._s("/screenshot"))
        with open(path, "wb") as f:
            f.write(base64.b64decode(png))


class Element:
    def __init__(self, session, eid):
        self.s, self.id = session, eid

    def _p(self, path):
        return self.s._s(f"/element/{self.id}{path}")

    def click(self):
        self.s._call("POST", self._p("/click"), {})

    def type(self, text):
        self.s._call("POST", self._p("/value"), {"text": text})

    def text(self):
        return self.s._call("GET", self._p("/text"))

    def attr(self, name):
        return self.s._call("GET", self._p(f"/attribute/{name}"))
