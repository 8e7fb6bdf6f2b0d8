// §2 primitives: Ed25519 verification as the spec pins it, against crafted keys and
// signatures that libraries disagree on. The crafted values are made with
// @noble/curves' own point operations (test-only).
import { test } from "node:test";
import assert from "node:assert/strict";
import { ED25519_TORSION_SUBGROUP, ed25519 } from "@noble/curves/ed25519.js";
import { sha512 } from "@noble/hashes/sha2.js";
import * as P from "../src/protocol/index.js";
import { fromHex } from "../src/protocol/index.js";

const Point = ed25519.Point;
const Fn = ed25519.Point.Fn;
const le = (b: Uint8Array) => BigInt("0x0" + P.toHex(b.slice().reverse()));
const leBytes = (x: bigint) => fromHex(x.toString(16).padStart(64, "0")).reverse();

test("§2 Ed25519: the eight small-order points and non-subgroup points are not valid venue keys", () => {
  assert.equal(ED25519_TORSION_SUBGROUP.length, 8);
  for (const hex of ED25519_TORSION_SUBGROUP) {
    const bytes = fromHex(hex);
    assert.equal(P.validPublicKey(bytes), false, hex);
  }
  const good = P.ed25519Public(new Uint8Array(32).fill(7));
  assert.ok(P.validPublicKey(good));
  // A good key plus a point of order 8: on the curve, outside the prime-order subgroup.
  const mixed = Point.fromBytes(good).add(Point.fromHex(ED25519_TORSION_SUBGROUP[1]!)).toBytes();
  assert.equal(P.validPublicKey(mixed), false);
  // y = p (non-canonical encoding of y = 0) and garbage.
  const yIsP = fromHex("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
  assert.equal(P.validPublicKey(yIsP), false);
  assert.equal(P.validPublicKey(new Uint8Array(31)), false);
});

test("§2 Ed25519: S >= L and an R with a small-order component are refused (the cofactorless equation)", () => {
  const seed = new Uint8Array(32).fill(3);
  const message = P.bytes("placecode/1 test");
  const { prefix, scalar, pointBytes } = ed25519.utils.getExtendedPublicKey(seed);
  const sig = P.ed25519Sign(seed, message);
  assert.ok(P.ed25519Verify(pointBytes, message, sig));
  // S + L: the same S modulo L, not canonical.
  const sPlusL = P.concat(sig.subarray(0, 32), leBytes(le(sig.subarray(32)) + Fn.ORDER));
  assert.equal(P.ed25519Verify(pointBytes, message, sPlusL), false);
  // R' = R + T with T of order 2, and S' made for R' by the key holder: the cofactored
  // equation (noble's verify) accepts it, the pinned cofactorless one does not.
  const r = Fn.create(le(sha512(P.concat(prefix, message))));
  const R2 = Point.BASE.multiply(r).add(Point.fromHex(ED25519_TORSION_SUBGROUP[4]!)).toBytes();
  const k = Fn.create(le(sha512(P.concat(R2, pointBytes, message))));
  const crafted = P.concat(R2, leBytes(Fn.create(r + k * scalar)));
  assert.equal(ed25519.verify(crafted, message, pointBytes, { zip215: false }), true, "noble's cofactored verify accepts it");
  assert.equal(P.ed25519Verify(pointBytes, message, crafted), false);
});
