#!/usr/bin/env node
// Compiles the AssemblyScript kernels to the .wasm files committed beside them (the monitor
// loads those; it never compiles). Usage: npm run build:wasm [-- --out DIR]
// With --out the files go to DIR instead (the test compares them with the committed ones).
import asc from 'assemblyscript/asc';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
export const KERNELS = ['server/features/video/wasm/pil-bicubic.as.ts'];
// Fixed options, so the same source always gives the same bytes.
const OPTIONS = ['-O3', '--runtime', 'stub', '--noAssert', '--enable', 'simd'];

export async function buildWasm(outDir) {
  const built = [];
  for (const source of KERNELS) {
    const name = path.basename(source, '.as.ts') + '.wasm';
    const out = path.join(outDir ?? path.join(root, path.dirname(source)), name);
    const { error, stderr } = await asc.main([path.join(root, source), '-o', out, ...OPTIONS]);
    if (error) throw new Error(`${source} did not compile: ${error.message}\n${stderr.toString()}`);
    built.push(out);
  }
  return built;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--out');
  for (const file of await buildWasm(at > 0 ? process.argv[at + 1] : undefined))
    console.log(`build:wasm: wrote ${path.relative(process.cwd(), file)}`);
}
