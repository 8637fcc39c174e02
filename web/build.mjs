// Copies the browser UI's front-end libraries from node_modules into the Python package
// (service/lmkg/web/vendor/), then writes a stamp with the lock file's hash: the install
// step (setup.py) rebuilds when the stamp is missing or names another lock file.
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const target = join(here, "..", "service", "lmkg", "web", "vendor");

// package file -> name in vendor/; the UI's index.html loads these names.
const files = {
  "@zazuko/yasgui/build/yasgui.min.js": "yasgui.min.js",
  "@zazuko/yasgui/build/yasgui.min.css": "yasgui.min.css",
  "chart.js/dist/chart.umd.min.js": "chart.umd.min.js",
};

rmSync(target, { recursive: true, force: true });
mkdirSync(target, { recursive: true });
for (const [source, name] of Object.entries(files)) {
  // Source maps are not shipped: drop the comment that points at one.
  const text = readFileSync(join(here, "node_modules", source), "utf8").replace(
    /\n?\/[/*]# sourceMappingURL=\S+?(\s*\*\/)?\s*$/,
    "\n",
  );
  writeFileSync(join(target, name), text);
}
const lock = readFileSync(join(here, "package-lock.json"));
writeFileSync(join(target, "BUILD"), createHash("sha256").update(lock).digest("hex") + "\n");
console.log(`lmkg web: ${Object.keys(files).length} files copied to ${target}`);
