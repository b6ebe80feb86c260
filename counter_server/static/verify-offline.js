// The page /v/offline: checks a seal's text (pasted, typed, from a QR reader or the camera)
// in the browser, with the seal keys the page carries, and sends nothing anywhere. Its
// service worker keeps the page and its files so that it opens again without a network.

import { formatDate, persianDigits, todayInTehran } from "./persian.js";
import { SealError, importKeys, readSeal, stateOf } from "./seals.js";

const SCAN_EVERY_MS = 300;
const LABELS = { valid: "معتبر", expired: "منقضی‌شده", refused: "نامعتبر" };
const CAMERA_FAILED = "دوربین در دسترس نیست یا اجازه استفاده از آن داده نشد؛ "
  + "متن رمزینه را بچسبانید.";

const settings = JSON.parse(document.getElementById("offline-settings").textContent);
const element = (id) => document.getElementById(id);
// WebCrypto is there only on secure pages (https, or localhost).
const canCheck = Boolean(window.crypto && window.crypto.subtle);
const keysReady = canCheck ? importKeys(settings.keys) : null;

function showFacts(facts) {
  element("fact-kind").textContent = settings.kinds[String(facts.kindCode)];
  element("fact-number").textContent = persianDigits(facts.number);
  element("fact-holder").textContent = facts.holder;
  element("fact-national-code").textContent = persianDigits(facts.maskedNationalCode);
  element("fact-issued").textContent = formatDate(facts.issuedOn, settings.months);
  element("fact-expires").textContent = facts.expiresOn
    ? formatDate(facts.expiresOn, settings.months) : "بدون تاریخ انقضا";
  element("document-link").href = settings.documentUrl.replace(settings.idPlaceholder,
    facts.documentId);
}

function detailOf(state, facts) {
  if (state === "expired") {
    return "امضای این مهر درست است، اما مهلت اعتبار سند در "
      + formatDate(facts.expiresOn, settings.months) + " به پایان رسیده است.";
  }
  return "امضای این مهر درست است و محتوای آن همان است که اداره صادر کرده است؛ "
    + (facts.expiresOn ? "سند تا " + formatDate(facts.expiresOn, settings.months)
      + " اعتبار دارد." : "سند تاریخ انقضا ندارد.");
}

function showVerdict(state, detail) {
  element("verdict-box").className = "status-box verify-" + state;
  element("verdict-label").textContent = LABELS[state];
  element("verdict-detail").textContent = detail;
  element("verdict").hidden = false;
}

async function check() {
  const text = element("seal-text").value;
  if (text.trim() === "" || !canCheck) { return; }
  try {
    const facts = await readSeal(text, await keysReady);
    const state = stateOf(facts, todayInTehran());
    showFacts(facts);
    showVerdict(state, detailOf(state, facts));
    element("seal-facts").hidden = false;
  } catch (error) {
    if (!(error instanceof SealError)) { throw error; }
    element("seal-facts").hidden = true;
    showVerdict("refused", settings.errors[error.code]);
  }
}

// The camera, where the browser has BarcodeDetector; without it the buttons stay hidden.
const camera = { stream: null, timer: null };

function stopCamera() {
  clearInterval(camera.timer);
  if (camera.stream) { camera.stream.getTracks().forEach((track) => track.stop()); }
  camera.stream = null;
  element("camera").hidden = true;
  element("camera-stop").hidden = true;
  element("camera-start").hidden = false;
}

async function startCamera(detector) {
  element("camera-error").hidden = true;
  try {
    camera.stream = await navigator.mediaDevices.getUserMedia(
      { video: { facingMode: "environment" }, audio: false });
  } catch (error) {
    element("camera-error").textContent = CAMERA_FAILED;
    element("camera-error").hidden = false;
    return;
  }
  const video = element("camera");
  video.srcObject = camera.stream;
  video.hidden = false;
  element("camera-start").hidden = true;
  element("camera-stop").hidden = false;
  await video.play();
  camera.timer = setInterval(async () => {
    const codes = await detector.detect(video).catch(() => []);
    const found = codes.find((code) => code.rawValue.includes("/v/"));
    if (found === undefined || camera.stream === null) { return; }
    stopCamera();
    element("seal-text").value = found.rawValue;
    await check();
  }, SCAN_EVERY_MS);
}

async function offerCamera() {
  if (!("BarcodeDetector" in window) || !navigator.mediaDevices?.getUserMedia) { return; }
  const formats = await window.BarcodeDetector.getSupportedFormats().catch(() => []);
  if (!formats.includes("qr_code")) { return; }
  const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
  element("camera-start").hidden = false;
  element("camera-start").addEventListener("click", () => startCamera(detector));
  element("camera-stop").addEventListener("click", stopCamera);
}

// Offline after one visit: the worker keeps this page and every file it needs — the
// stylesheets, scripts, images and icons it names, the fonts its stylesheets name and the
// modules this script imports.
function filesOfThePage() {
  const named = Array.from(document.querySelectorAll("link[href], script[src], img[src]"),
    (tag) => tag.href || tag.src);
  const fonts = [];
  for (const sheet of document.styleSheets) {
    for (const rule of sheet.cssRules) {
      if (!(rule instanceof CSSFontFaceRule)) { continue; }
      const src = rule.style.getPropertyValue("src");
      for (const [, url] of src.matchAll(/url\("?([^")]+)"?\)/g)) {
        fonts.push(new URL(url, sheet.href).href);
      }
    }
  }
  const modules = ["./seals.js", "./persian.js"].map((url) => new URL(url, import.meta.url).href);
  return [location.origin + location.pathname, ...named, ...fonts, ...modules]
    .filter((url) => new URL(url).origin === location.origin && !url.includes("#"));
}

async function keepForOffline() {
  if (!("serviceWorker" in navigator)) { return; }
  await navigator.serviceWorker.register(settings.worker, { scope: location.pathname });
  const worker = (await navigator.serviceWorker.ready).active;
  const channel = new MessageChannel();
  channel.port1.onmessage = (event) => { element("offline-ready").hidden = !event.data.kept; };
  worker.postMessage({ keep: [...new Set(filesOfThePage())] }, [channel.port2]);
}

element("seal-form").addEventListener("submit", (event) => {
  event.preventDefault();
  check();
});
element("seal-text").addEventListener("keydown", (event) => {
  // A QR reader that types like a keyboard ends with Enter.
  if (event.key === "Enter" && !event.shiftKey) {
    event.preventDefault();
    check();
  }
});
element("seal-text").addEventListener("paste", () => setTimeout(check, 0));
element("no-webcrypto").hidden = canCheck;
offerCamera();
if (document.readyState === "complete") {
  keepForOffline();
} else {
  window.addEventListener("load", keepForOffline);
}
