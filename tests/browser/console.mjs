// The operator console in a real browser: Debian's Chromium, driven headless over the DevTools protocol by
// puppeteer-core. Run by tests/service/console_browser_test.cpp, which starts the gateway, places the calls and
// the campaign, and reads this script's exit status; every step prints a line, and a failed step exits 1.
//
// Environment: CONSOLE_URL (http://127.0.0.1:PORT), ADMIN_TOKEN, CALL_SID (a finished call with a recording and
// a transcript holding a <script> tag), CAMPAIGN_ID (a running campaign), MARKER_DIR (this script writes
// `live-open` there once the live page is open: the test then places a live call), SCREENSHOT_DIR.
import fs from "node:fs";
import path from "node:path";
import puppeteer from "puppeteer-core";

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const base = env("CONSOLE_URL");
const shots = env("SCREENSHOT_DIR");
fs.mkdirSync(shots, { recursive: true });

function check(condition, what) {
  if (!condition) throw new Error(`check failed: ${what}`);
  console.log(`ok: ${what}`);
}

const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  // As root (CI) Chromium needs --no-sandbox; the network flags keep it from calling Google on a closed network.
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--autoplay-policy=no-user-gesture-required"],
});
let failed = false;
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  page.setDefaultTimeout(30000);
  const problems = [];
  page.on("dialog", async (dialog) => { problems.push(`a dialog opened: ${dialog.message()}`); await dialog.dismiss(); });
  page.on("pageerror", (error) => problems.push(`script error: ${error.message}`));
  page.on("console", (message) => { if (message.type() === "error") problems.push(`console error: ${message.text()}`); });
  const shot = async (name) => page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });

  // Sign in.
  await page.goto(`${base}/console`);
  check(page.url().endsWith("/console/sign-in"), "an unsigned visitor is sent to the sign-in page");
  await shot("sign-in");
  await page.type("#token", env("ADMIN_TOKEN"));
  await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
  check(page.url().endsWith("/console/calls"), "signing in opens the calls page");
  const cookies = await page.cookies();
  const session = cookies.find((c) => c.name === "vb_console");
  check(session && session.httpOnly && session.sameSite === "Strict", "the session cookie is HttpOnly and SameSite=Strict");

  // The calls page: the call is listed; times are the browser's (TZ is set to New York by the test).
  const callLink = `a[href="/console/calls/${env("CALL_SID")}"]`;
  await page.waitForSelector(callLink);
  const shownTime = await page.$eval(`${callLink} time`, (t) => t.textContent);
  check(!shownTime.includes("UTC"), `times are shown in the browser's time zone (${shownTime})`);
  await shot("calls");
  await page.keyboard.press("Tab");
  check(await page.evaluate(() => document.activeElement.classList.contains("skip")), "the first Tab reaches 'Skip to content'");
  await page.setViewport({ width: 390, height: 844, isMobile: true });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 0, "the calls page fits a phone's width (tables scroll inside their box)");
  await shot("calls-phone");
  await page.setViewport({ width: 1280, height: 900 });

  // One call: the transcript's <script> is text, and the recording plays to its end after a seek.
  await Promise.all([page.waitForNavigation(), page.click(callLink)]);
  const transcript = await page.$eval("ol.transcript", (t) => t.textContent);
  check(transcript.includes("<script>alert('xss')</script>"), "a transcript containing <script> is shown as text");
  check(await page.evaluate(() => document.querySelectorAll("script").length) === 1, "the page runs no script but the console's own");
  const played = await page.evaluate(async () => {
    const audio = document.querySelector('audio[data-kind="recording"]');
    await new Promise((resolve, reject) => {
      if (audio.readyState >= 1) resolve();
      audio.addEventListener("loadedmetadata", resolve, { once: true });
      audio.addEventListener("error", () => reject(new Error("audio error")), { once: true });
    });
    const duration = audio.duration;
    audio.currentTime = duration / 2;  // a seek: the browser fetches from there with a Range request
    await new Promise((resolve) => audio.addEventListener("seeked", resolve, { once: true }));
    await audio.play();
    await new Promise((resolve, reject) => {
      audio.addEventListener("ended", resolve, { once: true });
      setTimeout(() => reject(new Error("the recording did not reach its end")), 20000);
    });
    return { duration, ended: audio.ended };
  });
  check(played.ended && played.duration > 0.5, `the recording (${played.duration.toFixed(2)} s) played to 'ended' after a seek`);
  await shot("call");

  // Live calls: a call appears without a reload, is ended with its button, and disappears.
  await page.goto(`${base}/console/live`);
  await page.waitForFunction(() => document.querySelector("[data-live-status]").textContent.startsWith("Live:"));
  fs.writeFileSync(path.join(env("MARKER_DIR"), "live-open"), "");
  await page.waitForSelector("tr[data-call]", { timeout: 60000 });
  check(true, "a live call appeared in the open page");
  await page.waitForFunction(() => document.querySelector("td[data-started]").textContent !== "0:00", { timeout: 10000 });
  await shot("live");
  await Promise.all([page.waitForNavigation(), page.click("tr[data-call] form.end button")]);
  await page.waitForFunction(() => document.querySelectorAll("tr[data-call]").length === 0, { timeout: 30000 });
  check(true, "the ended call disappeared from the live view");

  // Campaigns: pause the running one.
  await page.goto(`${base}/console/campaigns`);
  const row = `tr[data-campaign="${env("CAMPAIGN_ID")}"]`;
  check((await page.$eval(`${row} .state`, (s) => s.textContent)) === "running", "the campaign is running");
  await Promise.all([page.waitForNavigation(), page.click(`${row} form[action$="/pause"] button`)]);
  check((await page.$eval(`${row} .state`, (s) => s.textContent)) === "paused", "the Pause button paused the campaign");
  await shot("campaigns");

  for (const name of ["routes", "webhooks", "health"]) {
    await page.goto(`${base}/console/${name}`);
    await shot(name);
  }
  check(problems.length === 0, `no dialog, script error or console error (${problems.join("; ")})`);
} catch (error) {
  console.error(`FAILED: ${error.message}`);
  failed = true;
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
