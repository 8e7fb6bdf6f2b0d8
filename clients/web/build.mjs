// Builds the web client with esbuild (no network, no other tool).
//   node build.mjs            the browser bundle(s) into dist/
//   node build.mjs --tests    also every test/*.test.ts and bench/*.ts into build/, for `node --test`
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { copyFileSync, readFileSync, readdirSync, rmSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const withTests = process.argv.includes("--tests");

/** Browser entry points: each file becomes dist/<name>.js. */
const browserEntries = [join(here, "src/protocol/index.ts")].filter((f) => existsSync(f));

rmSync(join(here, "dist"), { recursive: true, force: true });
await build({
  entryPoints: browserEntries,
  outdir: join(here, "dist"),
  bundle: true,
  format: "esm",
  platform: "browser",
  target: ["es2022"],
  minify: true,
  sourcemap: true,
  legalComments: "none",
  logLevel: "warning",
});

// The visitor's app: its page, style and icons as they are, the app bundled, then the
// service worker, stamped with a hash of the files it caches so that a new release
// replaces the cached app.
const app = join(here, "src/app");
if (existsSync(app)) {
  const common = {
    outdir: join(here, "dist"),
    bundle: true,
    format: "esm",
    platform: "browser",
    target: ["es2022"],
    minify: true,
    sourcemap: "linked",
    legalComments: "none",
    logLevel: "warning",
  };
  await build({ ...common, entryPoints: { app: join(app, "main.ts") } });
  for (const name of readdirSync(join(app, "static"))) {
    copyFileSync(join(app, "static", name), join(here, "dist", name));
  }
  const hash = createHash("sha256");
  for (const name of ["index.html", "app.js", "app.css", "manifest.webmanifest", "icon.svg"]) {
    hash.update(readFileSync(join(here, "dist", name)));
  }
  const version = hash.digest("hex").slice(0, 16);
  await build({ ...common, entryPoints: { sw: join(app, "sw.ts") }, define: { APP_VERSION: JSON.stringify(version) } });
}

if (withTests) {
  const list = (dir, suffix) =>
    existsSync(join(here, dir))
      ? readdirSync(join(here, dir))
          .filter((f) => f.endsWith(suffix))
          .map((f) => join(here, dir, f))
      : [];
  rmSync(join(here, "build"), { recursive: true, force: true });
  await build({
    entryPoints: [...list("test", ".test.ts"), ...list("bench", ".ts")],
    outdir: join(here, "build"),
    outbase: here,
    bundle: true,
    format: "esm",
    platform: "node",
    target: ["node20"],
    packages: "external",
    sourcemap: "inline",
    logLevel: "warning",
  });
}
