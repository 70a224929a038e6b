"""End-to-end test of the real Tandem app under Xvfb, driven through WebDriver.

First run -> load the default pair -> send a message -> coloured tokens stream and stats
show -> inspector, race, documents, models (an incompatible pair explained), settings ->
the same screens in Chinese -> the app goes away mid-answer -> restart the app -> the
conversations are still there, the cut-off answer kept and marked, and hostile HTML in an
answer stays inert. Screenshots go to $SHOTS.

Run by tests/e2e/run.sh, which owns Xvfb and tauri-driver.
"""

import json
import os
import subprocess
import sys
import time

from webdriver import Session

APP = os.environ["APP"]
SHOTS = os.environ["SHOTS"]
DATA = os.environ["TANDEM_DATA_DIR"]
TANDEM = os.environ["TANDEM"]

PAYLOADS = "\n\n".join([
    "Here is some HTML:",
    "<img src=x onerror=\"document.title='pwned'\">",
    "<script>document.title='pwned'</script>",
    "[click me](javascript:document.title='pwned')",
    "<a href=\"javascript:document.title='pwned'\">or me</a>",
    "<svg onload=\"document.title='pwned'\"></svg>",
    "<iframe src=\"javascript:document.title='pwned'\"></iframe>",
])
ACTIVE = ", ".join(f'[data-testid="message"] {sel}' for sel in [
    "script", "iframe", "object", "embed", "svg", "[onerror]", "[onload]", "a[href^='javascript:']", "img[src='x']"])


def log(msg):
    print(f"e2e: {msg}", flush=True)


def shot(s, name):
    s.screenshot(os.path.join(SHOTS, f"{name}.png"))
    log(f"screenshot {name}.png")


def select(s, testid, value):
    s.script(
        "const el = document.querySelector(`[data-testid=\"${arguments[0]}\"]`);"
        "el.value = arguments[1]; el.dispatchEvent(new Event('change', {bubbles: true}));",
        testid, value)


def tokens_by_origin(s):
    return s.script(
        "const c = {}; for (const t of document.querySelectorAll('[data-testid=\"token\"]'))"
        " { c[t.dataset.origin] = (c[t.dataset.origin] || 0) + 1 } return c;")


def conversation_titles(s):
    return s.script("return [...document.querySelectorAll('[data-testid=\"conversation-open\"]')]"
                    ".map(e => e.textContent.trim())")


def message_text(s):
    return s.script("return [...document.querySelectorAll('[data-testid=\"message\"]')]"
                    ".map(e => e.textContent).join('\\n')")


def open_conversation(s, words):
    titles = conversation_titles(s)
    index = next(i for i, t in enumerate(titles) if words in t)
    s.find_all('[data-testid="conversation-open"]')[index].click()


def first_session():
    s = Session(APP)
    try:
        s.testid("screen-start", 60)
        shot(s, "start-en")
        s.testid("load-and-start").click()
        s.testid("screen-chat", 120)
        composer = s.testid("composer", 120)
        s.wait(lambda: composer.attr("disabled") is None, 120, "the composer to be enabled")
        composer.type("Write a Python function that returns the squares of 1 to 10, with a short docstring.")
        s.testid("send").click()
        # Mid-stream: coloured tokens appear while the answer is written.
        s.wait(lambda: sum(tokens_by_origin(s).values()) >= 12, 120, "streamed tokens")
        shot(s, "chat-streaming-en")
        streaming = tokens_by_origin(s)
        log(f"token origins while streaming: {streaming}")
        assert set(streaming) <= {"accepted", "target", "rejected"}, streaming
        s.wait(lambda: not s.find_all('[data-testid="stop"]') and s.find_all('[data-testid="inspect"]'), 300,
               "the answer to finish")
        origins = tokens_by_origin(s)
        if not origins:
            # Done answers show rendered Markdown; the toggle brings the colours back from the trace.
            s.testid("toggle-colours").click()
            origins = s.wait(lambda: tokens_by_origin(s), 30, "coloured tokens from the trace")
        log(f"token origins when done: {origins}")
        assert set(origins) <= {"accepted", "target", "rejected"}, origins
        assert origins.get("target", 0) > 0, origins
        speed = s.testid("stat-speed").text()
        assert any(ch.isdigit() for ch in speed), speed
        log(f"stats: {s.testid('stats-line').text()!r}")
        shot(s, "chat-done-en")

        s.testid("inspect").click()
        s.testid("screen-inspector")
        s.wait(lambda: len(s.find_all('[data-testid="timeline-step"]')) > 0, 30, "inspector steps")
        shot(s, "inspector-en")

        s.testid("nav-race").click()
        s.testid("race-prompt").type("List three fruits, one per line.")
        s.testid("race-start").click()
        s.testid("race-result", 240)
        assert s.find_all('[data-testid="race-identical"]'), "race shows whether outputs match"
        log(f"race: {s.testid('race-result').text()!r}")
        shot(s, "race-en")

        s.testid("nav-documents").click()
        s.testid("new-document").click()
        s.testid("doc-title").type("A note")
        s.testid("doc-body").type("Their going to the market tomorow, and they buys apples.")
        s.testid("doc-save").click()
        s.testid("doc-grammar").click()
        s.wait(lambda: s.find_all('[data-testid="revision"]') and
               "tomorow" not in s.testid("doc-body").attr("value") or None, 240, "the grammar fix")
        log(f"document after grammar fix: {s.testid('doc-body').attr('value')!r}")
        shot(s, "documents-en")

        s.testid("nav-models").click()
        s.testid("screen-models")
        select(s, "own-target", "qwen2.5-coder-1.5b-instruct")
        select(s, "own-draft", "smollm2-135m-instruct")
        s.testid("own-check").click()
        result = s.testid("pair-check-result", 30)
        text = s.wait(lambda: result.text(), 30, "the pair check result")
        log(f"incompatible pair: {text!r}")
        assert "same model family" in text, text
        shot(s, "models-en")

        s.testid("nav-settings").click()
        s.testid("screen-settings")
        shot(s, "settings-en")

        # Every screen again in Chinese.
        select(s, "language-switch", "zh")
        s.wait(lambda: s.testid("nav-chat").text() not in ("Chat", ""), 10, "Chinese labels")
        for screen in ["chat", "inspector", "race", "documents", "models", "settings"]:
            s.testid(f"nav-{screen}").click()
            s.testid(f"screen-{screen}")
            time.sleep(0.3)
            shot(s, f"{screen}-zh")
        select(s, "language-switch", "en")
        s.wait(lambda: s.testid("nav-chat").text() == "Chat", 10, "English labels")

        # The app goes away in the middle of an answer: what was written must survive.
        s.testid("nav-chat").click()
        s.testid("new-conversation").click()
        s.testid("composer").type("Write a long story about a lighthouse keeper and the sea.")
        s.testid("send").click()
        s.wait(lambda: sum(tokens_by_origin(s).values()) >= 10, 120, "the long answer to start")
    finally:
        s.quit()


def import_hostile_conversation():
    now = "2026-11-28T12:00:00Z"
    conv = {
        "format": "tandem-conversation", "version": 1, "title": "Hostile answer",
        "created_at": now, "updated_at": now,
        "messages": [
            {"role": "user", "status": "complete", "created_at": now, "updated_at": now, "text": "Show me some HTML"},
            {"role": "assistant", "status": "complete", "created_at": now, "updated_at": now, "text": PAYLOADS},
        ],
    }
    path = os.path.join(SHOTS, "hostile.json")
    with open(path, "w") as f:
        json.dump(conv, f)
    subprocess.run([TANDEM, "history", "import", path, "--db", os.path.join(DATA, "history.sqlite")], check=True)


def second_session():
    s = Session(APP)
    try:
        s.wait(lambda: s.find_all('[data-testid="screen-start"]') or s.find_all('[data-testid="screen-chat"]'),
               60, "the app to start")
        s.testid("nav-chat").click()
        titles = s.wait(lambda: [t for t in conversation_titles(s) if t], 30, "saved conversations")
        log(f"conversations after restart: {titles}")
        assert any("Python function" in t for t in titles), titles
        assert any("Hostile" in t for t in titles), titles
        assert any("lighthouse" in t for t in titles), titles
        open_conversation(s, "Python function")
        s.wait(lambda: "def " in message_text(s), 30, "the saved answer")

        # The answer cut off when the first app went away is kept, marked as such.
        open_conversation(s, "lighthouse")
        s.wait(lambda: s.find_all('[data-testid="message-status"]'), 30, "the cut-off answer's status")
        kept = s.script("const m = [...document.querySelectorAll('[data-testid=\"message\"]')]"
                        ".filter(e => e.dataset.role === 'assistant'); return m.length ? m[0].textContent : ''")
        log(f"kept after the app went away mid-answer: {kept[:80]!r}")
        assert len(kept.strip()) > 20, kept

        title_before = s.script("return document.title")
        open_conversation(s, "Hostile")
        s.wait(lambda: "Here is some HTML" in message_text(s), 30, "the hostile answer")
        time.sleep(1)
        active = s.script("return [...document.querySelectorAll(arguments[0])].map(e => e.outerHTML)", ACTIVE)
        assert active == [], active
        for link in s.find_all('[data-testid="markdown"] a'):
            link.click()
        time.sleep(0.5)
        assert s.script("return document.title") == title_before, "a payload ran"
        shot(s, "hostile-inert-en")
    finally:
        s.quit()


def main():
    os.makedirs(SHOTS, exist_ok=True)
    first_session()
    import_hostile_conversation()
    second_session()
    log("passed")


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # print the failure plainly for CI logs
        print(f"e2e: FAILED: {e}", file=sys.stderr)
        raise
