// Bundles the dashboard (pkg/dashboard/ui) with esbuild into dist/pkg/dashboard/static, where
// the apiserver serves it: one script and one stylesheet with content hashes in their names,
// and the index.html that loads them. Everything is bundled (no CDN): a cluster's dashboard
// must work where nothing but the apiserver is reachable. Run by `npm run build` after tsc.

import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

// dist/scripts/build-ui.js → the repository.
const repo = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const ui = join(repo, 'pkg', 'dashboard', 'ui');
const out = join(repo, 'dist', 'pkg', 'dashboard', 'static');

function page(script: string, stylesheet: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Coxswain</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="./${stylesheet}">
</head>
<body>
<div id="app"><noscript>The Coxswain dashboard needs JavaScript.</noscript></div>
<script type="module" src="./${script}"></script>
</body>
</html>
`;
}

async function main(): Promise<void> {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const result = await build({
    entryPoints: [join(ui, 'main.tsx'), join(ui, 'styles.css')],
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['chrome110', 'firefox110', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    outdir: out,
    entryNames: '[name]-[hash]',
    metafile: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
  const script = outputs.find((n) => n.startsWith('main-') && n.endsWith('.js'));
  const stylesheet = outputs.find((n) => n.startsWith('styles-') && n.endsWith('.css'));
  if (script === undefined || stylesheet === undefined) throw new Error(`unexpected bundle: ${outputs.join(', ')}`);
  writeFileSync(join(out, 'index.html'), page(script, stylesheet));
  process.stdout.write(`dashboard bundled: ${outputs.join(', ')}, index.html\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`build-ui: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
