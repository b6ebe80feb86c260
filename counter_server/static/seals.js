// A delivered document's seal, read and checked in the browser: the port of shared/seals.py
// that the page /v/offline runs with no server. The format is described there:
//
//   QR text         = <base>/v/<id>#<digits>
//   digits          = decimal(0x01 ‖ body ‖ signature (64, raw r‖s))
//   signed message  = id (15 bytes, base32 in the address) ‖ body
//   body            = version (1) ‖ key id (4) ‖ kind (1) ‖ issued (2) ‖ expires (2)
//                     ‖ masked code (3) ‖ number (1 + n) ‖ holder (1 + n)
//
// Every rule here is the Python one, in the same order, so both refuse the same seals with
// the same code; tests/browser/test_offline_verify.py runs both on the same texts.

export const VERSION = 1;
const SIGNATURE_BYTES = 64;
const MAX_NUMBER = 20;
const MAX_HOLDER = 64;
const FIXED = 1 + 4 + 1 + 2 + 2 + 3;
const UTF8_FLAG = 0x80;
const DAY_MS = 24 * 3600 * 1000;
const BASE32 = "abcdefghijklmnopqrstuvwxyz234567";
export const KINDS = ["card", "licence", "certificate", "letter"];
const ALPHABET = Array.from(
  " \u200c-.'" +
  "ءآأؤإئابةتثجحخدذرزسشصضطظعغفقكلمنهوىي" +
  "پچژکگیۀ\u0654\u064b\u064e\u064f\u0650\u0651\u0652");
const ADDRESS = /^([^\n]*)\/v\/([a-z2-7]{24})#([1-9][0-9]{0,599})$/;
// What Python's str.strip() strips (str.isspace()); JavaScript's trim() also strips U+FEFF.
const SPACE = "[\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a"
  + "\\u2028\\u2029\\u202f\\u205f\\u3000]";
const PYTHON_WHITESPACE = new RegExp(`^${SPACE}+|${SPACE}+$`, "g");

/** A seal that must not be believed; `code` is the one shared/seals.py gives. */
export class SealError extends Error {
  constructor(code) {
    super(code);
    this.code = code;
  }
}

const malformed = () => new SealError("seal_malformed");

function bytesOf(value) {
  let hex = value.toString(16);
  if (hex.length % 2) { hex = "0" + hex; }
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) { bytes[i] = parseInt(hex.substr(2 * i, 2), 16); }
  return bytes;
}

function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function idBytes(documentId) {
  const bytes = new Uint8Array(documentId.length * 5 / 8);
  let bits = 0, value = 0, at = 0;
  for (const letter of documentId) {
    value = (value << 5) | BASE32.indexOf(letter);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes[at++] = (value >> bits) & 0xff;
    }
  }
  return bytes;
}

/** The parts of a seal's text: {documentId, body, signature, keyId (hex)}, or SealError. */
export function split(text) {
  const match = ADDRESS.exec(text.replace(PYTHON_WHITESPACE, ""));
  if (match === null) { throw malformed(); }
  const payload = bytesOf(BigInt(match[3]));
  if (payload[0] !== 0x01 || payload.length < 1 + FIXED + 2 + SIGNATURE_BYTES) {
    throw malformed();
  }
  const body = payload.slice(1, payload.length - SIGNATURE_BYTES);
  const signature = payload.slice(payload.length - SIGNATURE_BYTES);
  if (body[0] !== VERSION) { throw malformed(); }
  return { documentId: match[2], body, signature, keyId: hex(body.slice(1, 5)) };
}

class Reader {
  constructor(data) {
    this.data = data;
    this.at = 0;
  }

  take(n) {
    if (this.at + n > this.data.length) { throw malformed(); }
    const chunk = this.data.slice(this.at, this.at + n);
    this.at += n;
    return chunk;
  }

  number(n) {
    return this.take(n).reduce((value, byte) => value * 256 + byte, 0);
  }
}

function holderOf(reader) {
  const head = reader.number(1);
  if (head & UTF8_FLAG) {
    const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
    try {
      return decoder.decode(reader.take(head & ~UTF8_FLAG));
    } catch (error) {
      if (error instanceof TypeError) { throw malformed(); }
      throw error;
    }
  }
  const packed = reader.take(Math.ceil(6 * head / 8));
  let name = "";
  for (let i = 0; i < head; i++) {
    let code = 0;
    for (let bit = 6 * i; bit < 6 * i + 6; bit++) {
      code = (code << 1) | ((packed[bit >> 3] >> (7 - (bit & 7))) & 1);
    }
    if (code >= ALPHABET.length) { throw malformed(); }
    name += ALPHABET[code];
  }
  return name;
}

function isoDate(days) {
  return new Date(days * DAY_MS).toISOString().slice(0, 10);
}

/** The facts a seal's body holds, checked as SealFacts checks them, or SealError. */
export function factsOf(documentId, body) {
  const reader = new Reader(body);
  reader.take(5);
  const kindCode = reader.number(1);
  if (kindCode < 1 || kindCode > KINDS.length) { throw malformed(); }
  const issued = reader.number(2);
  const expires = reader.number(2);
  const kept = reader.number(3);
  const numberBytes = reader.take(reader.number(1));
  if (numberBytes.some((byte) => byte >= 0x80)) { throw malformed(); }
  const number = String.fromCharCode(...numberBytes);
  const holder = holderOf(reader);
  const holderLetters = Array.from(holder).length;
  if (reader.at !== body.length || kept > 99999
      || number.length < 1 || number.length > MAX_NUMBER
      || holderLetters < 1 || holderLetters > MAX_HOLDER
      || (expires !== 0 && expires < issued)) {
    throw malformed();
  }
  const keptDigits = String(kept).padStart(5, "0");
  return {
    documentId,
    number,
    kind: KINDS[kindCode - 1],
    kindCode,
    holder,
    maskedNationalCode: `${keptDigits.slice(0, 3)}*****${keptDigits.slice(3)}`,
    issuedOn: isoDate(issued),
    expiresOn: expires ? isoDate(expires) : null,
  };
}

function base64Bytes(text) {
  return Uint8Array.from(atob(text), (ch) => ch.charCodeAt(0));
}

/** WebCrypto keys from the page's list [{id (hex), spki (base64 DER)}]: [{id, key}]. */
export async function importKeys(listed) {
  return Promise.all(listed.map(async ({ id, spki }) => ({
    id,
    key: await crypto.subtle.importKey("spki", base64Bytes(spki),
      { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]),
  })));
}

/**
 * The facts of a seal's text, checked against `keys` (from importKeys).
 * Throws SealError: seal_malformed, seal_unknown_key or seal_signature_invalid.
 */
export async function readSeal(text, keys) {
  const { documentId, body, signature, keyId } = split(text);
  const known = keys.find((candidate) => candidate.id === keyId);
  if (known === undefined) { throw new SealError("seal_unknown_key"); }
  const id = idBytes(documentId);
  const signed = new Uint8Array(id.length + body.length);
  signed.set(id);
  signed.set(body, id.length);
  // WebCrypto's ECDSA signature is the raw r‖s the seal carries, not DER.
  const genuine = await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, known.key,
    signature, signed);
  if (!genuine) { throw new SealError("seal_signature_invalid"); }
  return factsOf(documentId, body);
}

/** "valid" or "expired" (after its expiry date, `today` "YYYY-MM-DD"), as the server says. */
export function stateOf(facts, today) {
  return facts.expiresOn !== null && today > facts.expiresOn ? "expired" : "valid";
}
