// The dashboard's bundled files (scripts/build-ui.ts writes them beside this module), read once
// into memory. Only names in that listing are ever served: a request path is looked up, never
// joined onto a directory, so `..`, encoded slashes or NUL bytes cannot reach another file.

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';

export interface StaticFile {
  body: Buffer;
  contentType: string;
  etag: string;
  /** Whether its name carries a hash of its content (then it may be cached for a year). */
  immutable: boolean;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

/** esbuild's `[name]-[hash]` file names. */
const HASHED_NAME = /-[A-Z0-9]{8}\.[a-z0-9]+$/;
/** A bundle is a few files of a few MB at most; more is not a bundle this build wrote. */
const MAX_FILES = 64;
const MAX_FILE_BYTES = 16 * 1024 * 1024;

/** The files of `dir` (not its subfolders) by request path (`/` is index.html); empty when it is absent. */
export function loadStaticFiles(dir: string): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return files;
  }
  for (const name of names.slice(0, MAX_FILES)) {
    const path = join(dir, name);
    const type = CONTENT_TYPES[extname(name)];
    const stat = statSync(path);
    if (type === undefined || !stat.isFile() || stat.size > MAX_FILE_BYTES) continue;
    const body = readFileSync(path);
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    const file = { body, contentType: type, etag, immutable: HASHED_NAME.test(name) };
    files.set(`/${name}`, file);
    if (name === 'index.html') files.set('/', file);
  }
  return files;
}
