// Every relative link in the packed Markdown (README, CHANGELOG, docs/) must name a file that is
// in the tarball: a reader on npm has nothing else. Usage: check-links.mjs <file list>, one
// `package/…` path per line (`tar -tzf` of the tarball), run from the packed tree.
import { readFileSync } from 'node:fs'
import { posix } from 'node:path'

const files = new Set(
  readFileSync(process.argv[2], 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((f) => f.replace(/^package\//, '')),
)
const packed = (target) =>
  files.has(target) || [...files].some((f) => f.startsWith(`${target.replace(/\/$/, '')}/`))
const broken = []
for (const file of files) {
  if (!file.endsWith('.md')) continue
  const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '')
  for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
    if (/^[a-z]+:/i.test(target) || target.startsWith('#')) continue
    const resolved = posix.normalize(posix.join(posix.dirname(file), target.split('#')[0]))
    if (!packed(resolved)) broken.push(`${file}: ${target}`)
  }
}
if (broken.length) {
  console.error(`links that do not resolve inside the tarball:\n${broken.join('\n')}`)
  process.exit(1)
}
console.log('every relative link in the packed Markdown resolves inside the tarball')
