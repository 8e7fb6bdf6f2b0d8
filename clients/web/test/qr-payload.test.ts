import { test } from "node:test";
import assert from "node:assert/strict";
import * as P from "../src/protocol/index.js";
import {
  DecodeError,
  codeKeys,
  ed25519Public,
  fromHex,
  toHex,
  venueCodeFromBytes,
  venueCodeFromUrl,
  venueCodeToBytes,
  venueCodeToUrl,
  x25519Public,
  type CodeKind,
  type VenueCode,
} from "../src/protocol/index.js";
import { VECTORS } from "./vectors.js";

test("§9 authority keys: public halves from the secrets", () => {
  const a = VECTORS.authority;
  assert.equal(toHex(ed25519Public(fromHex(a.sign_seed))), a.sign_key);
  assert.equal(toHex(x25519Public(fromHex(a.seal_secret))), a.seal_key);
});

test("§3 venue keys: every code of the vector venue", () => {
  const v = VECTORS.venue;
  assert.equal(v.codes.length, 4);
  for (const c of v.codes) {
    const keys = codeKeys(fromHex(v.secret), c.kind as CodeKind, c.number);
    assert.equal(toHex(keys.codeKey), c.code_key);
    assert.equal(toHex(keys.signingSeed), c.signing_seed);
    assert.equal(toHex(keys.publicKey), c.public_key);
    assert.equal(toHex(keys.codeId), c.code_id);
  }
});

test("§4 payloads: fields, bytes and URL both ways", () => {
  assert.equal(VECTORS.payloads.length, 2);
  for (const p of VECTORS.payloads) {
    const code: VenueCode = {
      kind: p.kind,
      codeKey: fromHex(p.code_key),
      venuePublicKey: fromHex(p.venue_public_key),
      category: p.category,
      stayMinutes: p.stay_minutes,
      name: p.name,
      proof: p.proof === null ? null : { epoch: p.proof.epoch, signature: fromHex(p.proof.signature) },
    };
    assert.equal(toHex(venueCodeToBytes(code)), p.bytes);
    assert.equal(venueCodeToBytes(code).length, p.length);
    assert.equal(venueCodeToUrl(code), p.url);
    for (const parsed of [venueCodeFromBytes(fromHex(p.bytes)), venueCodeFromUrl(p.url), venueCodeFromUrl(p.url.toLowerCase())]) {
      assert.deepEqual(parsed, code);
    }
  }
});

test("§4 payload errors: each refused with DecodeError, update asked only for versions 2..15", () => {
  assert.ok(VECTORS.payload_errors.length >= 12);
  for (const e of VECTORS.payload_errors) {
    assert.equal(e.error, "DecodeError", e.case);
    assert.throws(
      () => venueCodeFromBytes(fromHex(e.bytes)),
      (err: unknown) => {
        assert.ok(err instanceof DecodeError, e.case);
        assert.equal(err.message, e.message, e.case);
        assert.equal(/update the app/.test(err.message), e.asks_update, `${e.case}: ${err.message}`);
        return true;
      },
    );
  }
});

test("§4 check-in URL: a deployment's codes open its web client at /C", () => {
  assert.equal(P.checkinUrl("https://checkin.health.example.org"), "HTTPS://CHECKIN.HEALTH.EXAMPLE.ORG/C");
  assert.equal(P.checkinUrl("https://checkin.health.example.org/"), "HTTPS://CHECKIN.HEALTH.EXAMPLE.ORG/C");
  assert.equal(P.checkinUrl("http://127.0.0.1:8080/placecode/App/"), "HTTP://127.0.0.1:8080/placecode/App/C");
  for (const bad of ["ftp://x.org", "https://user@x.org", "https://x.org/?q", "https://x.org/#f", "https://x.org/a b", "https://bücher.example", "https://", "x.org"]) {
    assert.throws(() => P.checkinUrl(bad), P.PlacecodeError, bad);
  }
  const code = venueCodeFromUrl(VECTORS.payloads[0].url);
  const url = P.venueCodeToUrl(code, P.checkinUrl("https://checkin.health.example.org"));
  assert.match(url, /^HTTPS:\/\/CHECKIN\.HEALTH\.EXAMPLE\.ORG\/C#[A-Z2-7]+$/);
  assert.deepEqual(venueCodeFromUrl(url), code);
  assert.equal(P.venueCodeToUrl(code), VECTORS.payloads[0].url, "the default check-in URL");
  for (const bad of ["ftp://x/C", "https://x/C?", "https://x/C#", "https://x /C", "https://ü/C"]) {
    assert.throws(() => P.venueCodeToUrl(code, bad), P.PlacecodeError, bad);
  }
});
