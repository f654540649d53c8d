// `npm run check:deps` (CI runs it): the layout rules of .dependency-cruiser.cjs (no circles, the
// core imports nothing outside src/, each concern only from below), and no import chain inside
// src/ longer than five arrows.
import { execFileSync } from 'node:child_process'

const MAX_CHAIN = 5
const folders = ['src', 'adapters', 'queue', 'emulator', 'bin', 'client', 'testing']
const out = execFileSync(
  'npx',
  ['depcruise', ...folders, '--config', '.dependency-cruiser.cjs', '--output-type', 'json'],
  { encoding: 'utf8', maxBuffer: 1 << 26 },
)
const { modules, summary } = JSON.parse(out)

const problems = summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`)

// The longest chain of imports (type-only ones included) from any file of the core.
const arrows = new Map(
  modules.map((m) => [
    m.source,
    m.dependencies.filter((d) => d.resolved.startsWith('src/')).map((d) => d.resolved),
  ]),
)
const longest = new Map()
function chainFrom(file) {
  if (longest.has(file)) return longest.get(file)
  longest.set(file, [file]) // a circle is reported above; stop here if one exists
  let best = [file]
  for (const next of arrows.get(file) ?? []) {
    const chain = chainFrom(next)
    if (chain.length + 1 > best.length) best = [file, ...chain]
  }
  longest.set(file, best)
  return best
}
const core = [...arrows.keys()].filter((file) => file.startsWith('src/'))
const deepest = core.map(chainFrom).reduce((a, b) => (b.length > a.length ? b : a), [])
if (deepest.length - 1 > MAX_CHAIN) {
  problems.push(
    `an import chain of ${deepest.length - 1} arrows (at most ${MAX_CHAIN}): ${deepest.join(' → ')}`,
  )
}

if (problems.length > 0) {
  console.error(`check:deps: ${problems.length} problem(s)\n${problems.join('\n')}`)
  process.exit(1)
}
const arrowsInCore = core.reduce((n, file) => n + (arrows.get(file)?.length ?? 0), 0)
console.log(
  `check:deps: ${core.length} files and ${arrowsInCore} import arrows in src/, longest chain ${deepest.length - 1}: ${deepest.join(' → ')}`,
)
