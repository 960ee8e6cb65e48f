// Bundles src/ into dist/: one hashed script, one hashed stylesheet, and index.html naming them.
import { build, context } from 'esbuild'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'

const here = path.dirname(new URL(import.meta.url).pathname)
const dist = path.join(here, 'dist')
const watch = process.argv.includes('--watch')

const options = {
  entryPoints: { app: path.join(here, 'src/main.js') },
  bundle: true,
  format: 'esm',
  target: ['es2022'],
  minify: !watch,
  sourcemap: true,
  outdir: dist,
  entryNames: '[name]-[hash]',
  metafile: true,
  legalComments: 'linked',
  logLevel: 'warning',
}

async function writeIndex(metafile) {
  const outputs = Object.keys(metafile.outputs).map((file) => path.basename(file))
  const script = outputs.find((f) => f.startsWith('app-') && f.endsWith('.js'))
  const style = outputs.find((f) => f.startsWith('app-') && f.endsWith('.css'))
  const template = await readFile(path.join(here, 'src/index.html'), 'utf8')
  const page = template
    .replace('%STYLE%', `/assets/${style}`)
    .replace('%SCRIPT%', `/assets/${script}`)
  await writeFile(path.join(dist, 'index.html'), page)
}

await rm(dist, { recursive: true, force: true })
await mkdir(dist, { recursive: true })
if (watch) {
  const ctx = await context({
    ...options,
    plugins: [{ name: 'index', setup: (b) => b.onEnd((r) => r.metafile && writeIndex(r.metafile)) }],
  })
  await ctx.watch()
} else {
  const result = await build(options)
  await writeIndex(result.metafile)
}
