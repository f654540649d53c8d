import type { RequestBody } from './read-body.js'
import type { HeaderReader, WebhookRequest } from './types.js'

/**
 * The request an adapter hands the core. A class, not an object literal: it lives while the
 * body arrives, and V8 may allocate a literal's objects in the old generation, where a dead one
 * keeps the request's young chunks alive until a full GC (bench/RESULTS.md, issue 14, eighth
 * pass).
 */
export class CoreRequest<C> implements WebhookRequest<C> {
  constructor(
    public method: string,
    public url: string,
    public headers: HeaderReader,
    public body: RequestBody,
    public context: C,
    public adapter: string | undefined,
  ) {}
}
