import { existsSync, readFileSync, writeFileSync } from 'node:fs'

const FILE = new URL('RESULTS.md', import.meta.url)

/** Replace (or add) the section between `<!-- name:start -->` and `<!-- name:end -->` in bench/RESULTS.md. */
export function writeSection(name: string, markdown: string): void {
  const start = `<!-- ${name}:start -->`
  const end = `<!-- ${name}:end -->`
  const block = `${start}\n${markdown.trim()}\n${end}`
  let text = existsSync(FILE)
    ? readFileSync(FILE, 'utf8')
    : '# Benchmark and soak results\n\nEach section is written by the command it names; ratios are from one run on one machine.\n'
  const from = text.indexOf(start)
  const to = text.indexOf(end)
  text =
    from !== -1 && to !== -1
      ? text.slice(0, from) + block + text.slice(to + end.length)
      : `${text.trimEnd()}\n\n${block}\n`
  writeFileSync(FILE, text)
}
