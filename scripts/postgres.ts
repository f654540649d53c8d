// A throwaway PostgreSQL cluster for the tests and benchmarks (Debian's postgresql package).
import { execFileSync, spawnSync } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './run-example.js'

/** Debian's server binaries (initdb, pg_ctl), newest version first, or undefined. */
export function postgresBin(): string | undefined {
  const base = '/usr/lib/postgresql'
  if (!existsSync(base)) return undefined
  const versions = readdirSync(base).sort((a, b) => Number(b) - Number(a))
  for (const version of versions) {
    const bin = join(base, version, 'bin')
    if (existsSync(join(bin, 'initdb'))) return bin
  }
  return undefined
}

/**
 * A throwaway PostgreSQL cluster on a free port (no fsync, trust auth on 127.0.0.1). The server
 * refuses to run as root, so under root it runs as the `postgres` user.
 */
export async function startPostgres(bin: string) {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'sendclean-pg-'))
  const root = process.getuid?.() === 0
  const asOwner = (command: string, args: string[]) => {
    const [file, argv] = root
      ? ['runuser', ['-u', 'postgres', '--', command, ...args]]
      : [command, args]
    const result = spawnSync(file, argv, { encoding: 'utf8' })
    if (result.status !== 0) throw new Error(`${command} failed: ${result.stderr}${result.stdout}`)
  }
  if (root) execFileSync('chown', ['-R', 'postgres:postgres', dir])
  else chownSync(dir, process.getuid?.() ?? 0, process.getgid?.() ?? 0)
  const data = join(dir, 'data')
  asOwner(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync'])
  asOwner(join(bin, 'pg_ctl'), [
    '-D',
    data,
    '-l',
    join(dir, 'log'),
    '-o',
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`,
    '-w',
    'start',
  ])
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop() {
      try {
        asOwner(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop'])
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    },
  }
}
