/**
 * `npm run demo`: build the page (./build.ts) and serve it on localhost, printing the address.
 *   npm run demo -- [--port 8080] [--run DIR | --onnx F.onnx [--palette NAME]] [--mode whole|slide]
 *                   [--scale LONGxSHORT]
 * The server sends the cross-origin isolation headers (COOP/COEP) that let ONNX Runtime Web use
 * WebAssembly threads. Static files only, from one folder; nothing leaves the machine.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { repoRoot } from '../lib/paths.ts';
import { buildDemo } from './build.ts';
import { paletteOption } from '../lib/cli/predict_setup.ts';
import { sizeOption } from '../lib/cli/args.ts';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.jpg': 'image/jpeg',
  '.png': 'image/png',
};

export interface DemoServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Serve `root` on `host:port` (port 0: any free one).
 * @returns the page's URL and a close function
 */
export function serveDemo(root: string, port = 8080, host = '127.0.0.1'): Promise<DemoServer> {
  const base = resolve(root);
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = normalize(join(base, path.endsWith('/') ? `${path}index.html` : path));
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    if (
      !(file === base || file.startsWith(base + sep)) ||
      !existsSync(file) ||
      !statSync(file).isFile()
    ) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, {
      'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
      'Cache-Control': 'no-cache',
    });
    createReadStream(file).pipe(res);
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => {
      const a = server.address() as AddressInfo;
      ok({
        url: `http://${host === '127.0.0.1' ? 'localhost' : host}:${a.port}/`,
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
  });
}

async function main(): Promise<void> {
  const { values: v } = parseArgs({
    options: {
      port: { type: 'string' },
      run: { type: 'string' },
      onnx: { type: 'string' },
      palette: { type: 'string' },
      mode: { type: 'string' },
      scale: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const out = v.out ?? join(repoRoot(), 'dist', 'demo');
  const mode = v.mode === 'whole' || v.mode === 'slide' ? v.mode : undefined;
  const scale = v.scale ? sizeOption(v.scale, 'scale', [0, 0]) : undefined;
  const card = await buildDemo({
    out,
    run: v.run,
    onnx: v.onnx,
    palette: paletteOption(v.palette),
    mode,
    scale,
  });
  const server = await serveDemo(out, Number(v.port ?? 8080));
  console.log(`OffSeg demo: ${server.url}`);
  console.log(`model: ${card.label}`);
  console.log('Ctrl-C to stop.');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e: Error) => {
    process.stderr.write(`demo: ${e.message}\n`);
    process.exit(1);
  });
}
