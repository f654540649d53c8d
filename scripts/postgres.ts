// A throwaway PostgreSQL cluster for the tests and benchmarks (Debian's postgresql package).
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
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

/** Run a server binary as the cluster's owner: the server refuses to run as root. */
function asOwner(command: string, args: string[]): void {
  const [file, argv] =
    process.getuid?.() === 0
      ? ['runuser', ['-u', 'postgres', '--', command, ...args]]
      : [command, args]
  const result = spawnSync(file, argv, { encoding: 'utf8' })
  if (result.status !== 0) throw new Error(`${command} failed: ${result.stderr}${result.stdout}`)
}

/**
 * A throwaway PostgreSQL cluster in a new folder, on a free port (no fsync, trust auth on
 * 127.0.0.1); under root it runs as the `postgres` user.
 */
export async function startPostgres(bin: string) {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'sendclean-pg-'))
  if (process.getuid?.() === 0) execFileSync('chown', ['postgres:postgres', dir])
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
    dir,
    stop: () => stopPostgres(bin, dir),
  }
}

/** Stop the cluster `startPostgres` made in `dir`, and remove it. */
export function stopPostgres(bin: string, dir: string): void {
  try {
    asOwner(join(bin, 'pg_ctl'), ['-D', join(dir, 'data'), '-m', 'immediate', '-w', 'stop'])
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

// .ci/run: `node --import tsx scripts/postgres.ts start` prints "<url> <dir>"; `stop <dir>`.
if (import.meta.url === `file://${process.argv[1]}`) {
  const bin = postgresBin()
  if (!bin) throw new Error('no PostgreSQL server binaries in /usr/lib/postgresql')
  const [command, dir] = process.argv.slice(2)
  if (command === 'start') {
    const server = await startPostgres(bin)
    process.stdout.write(`${server.url} ${server.dir}\n`)
  } else if (command === 'stop' && dir) stopPostgres(bin, dir)
  else throw new Error('usage: scripts/postgres.ts start | stop <dir>')
}
