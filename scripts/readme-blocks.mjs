// Writes every ```ts block of the README to its own module, `<dir>/readme-NN.mts`, with the
// heading it stands under as a comment; prints how many. check-package type-checks them against
// the packed tarball, and test/readme.test.ts runs the quick starts.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export function readmeBlocks(markdown) {
  const blocks = []
  let heading = ''
  let open
  for (const line of markdown.split('\n')) {
    const fence = /^(\s*)```(\w*)\s*$/.exec(line)
    if (open) {
      if (fence) {
        blocks.push({ heading, code: open.lines.join('\n') })
        open = undefined
      } else open.lines.push(line.slice(open.indent))
      continue
    }
    if (/^#{2,4} /.test(line)) heading = line.replace(/^#+ /, '')
    if (fence && fence[2] === 'ts') open = { indent: fence[1].length, lines: [] }
    else if (fence) open = undefined
  }
  return blocks
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [readme, dir] = process.argv.slice(2)
  mkdirSync(dir, { recursive: true })
  const blocks = readmeBlocks(readFileSync(readme, 'utf8'))
  blocks.forEach((block, i) => {
    const name = `readme-${String(i + 1).padStart(2, '0')}.mts`
    writeFileSync(join(dir, name), `// README: ${block.heading}\n${block.code}\nexport {}\n`)
  })
  console.log(blocks.length)
}
