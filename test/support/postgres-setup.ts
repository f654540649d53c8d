import { afterAll, beforeAll, inject } from 'vitest'
import type { TestProject } from 'vitest/node'
import { postgresBin, startPostgres } from '../../scripts/postgres.js'

declare module 'vitest' {
  export interface ProvidedContext {
    /** A PostgreSQL for the tests (a connection string), or '' when there is none. */
    postgresUrl: string
  }
}

/**
 * DATABASE_URL wins (.ci/run starts a server); else a throwaway cluster when Debian's
 * postgresql is installed; else none, which CI refuses so the PostgreSQL tests cannot vanish.
 */
export default async function setup(project: TestProject) {
  if (process.env.DATABASE_URL) {
    project.provide('postgresUrl', process.env.DATABASE_URL)
    return
  }
  const bin = postgresBin()
  if (!bin) {
    if (process.env.CI)
      throw new Error('CI needs PostgreSQL: set DATABASE_URL or install postgresql')
    console.warn('postgresql is not installed: the PostgreSQL store tests will be skipped')
    project.provide('postgresUrl', '')
    return
  }
  const server = await startPostgres(bin)
  project.provide('postgresUrl', server.url)
  return () => server.stop()
}

/**
 * A `pg` Pool on the tests' PostgreSQL for the enclosing describe, and a fresh table name per
 * call (each store under test gets a table of its own, created on first use).
 */
export function usePostgres(): { pool: () => import('pg').Pool; table: () => string } {
  let pool: import('pg').Pool | undefined
  let n = 0
  beforeAll(async () => {
    const { default: pg } = await import('pg')
    pool = new pg.Pool({ connectionString: inject('postgresUrl'), max: 8 })
  })
  afterAll(() => pool?.end())
  return {
    pool: () => pool as import('pg').Pool,
    table: () => `t${process.pid}_${Date.now()}_${++n}`,
  }
}
