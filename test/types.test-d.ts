import type { Context as HonoContext } from 'hono'
import type { Context as KoaContext } from 'koa'
import { describe, expectTypeOf, it } from 'vitest'
import { createExpressMiddleware, type ExpressContext } from '../adapters/express.js'
import { createFetchHandler, type FetchContext } from '../adapters/fetch.js'
import { createHonoHandler } from '../adapters/hono.js'
import { createKoaMiddleware } from '../adapters/koa.js'
import type { Emulator } from '../emulator/index.js'
import { createWorker, type WorkerContext } from '../queue/index.js'
import {
  type ClickEvent,
  createReceiver,
  type EventName,
  type EventOf,
  extraField,
  type HandlerMap,
  type HardBounceEvent,
  type InvalidEvent,
  isKnownEvent,
  type KnownEvent,
  type SoftBounceEvent,
  type SpamEvent,
  type UnknownEvent,
  type WebhookError,
  type WebhookErrorCode,
  type WebhookEvent,
  type WireEvent,
} from '../src/index.js'
import { sampleEvent } from '../testing/index.js'

describe('handler types narrow per event', () => {
  it('one type', () => {
    createReceiver({ keys: 'k' })
      .on('click', (event) => {
        expectTypeOf(event).toEqualTypeOf<ClickEvent>()
        expectTypeOf(event.msg.clicks[0]!.clickUrl).toBeString()
        expectTypeOf(event.msg.clicks[0]!.clickTs).toBeNumber()
        expectTypeOf(event.date).toEqualTypeOf<Date>()
      })
      .on('hard_bounce', (event) => {
        expectTypeOf(event).toEqualTypeOf<HardBounceEvent>()
        expectTypeOf(event.msg.bounceCodeTrad).toBeNumber()
        expectTypeOf(event.msg.bounceCodeEnh).toBeString()
      })
      .on('spam', (event) => {
        expectTypeOf(event).toEqualTypeOf<SpamEvent>()
        expectTypeOf(event.msg.feedback.sourceIp).toEqualTypeOf<string | undefined>()
      })
  })

  it('several types give their union, not never', () => {
    createReceiver({ keys: 'k' }).on(['hard_bounce', 'soft_bounce'], (event) => {
      expectTypeOf(event).toEqualTypeOf<HardBounceEvent | SoftBounceEvent>()
      expectTypeOf(event).not.toBeNever()
      expectTypeOf(event.msg.bounceDesc).toBeString()
    })
    const types = ['open', 'click'] as const
    createReceiver({ keys: 'k' }).on(types, (event) => {
      expectTypeOf(event).toEqualTypeOf<EventOf<'open' | 'click'>>()
    })
  })

  it('unknown and * handlers', () => {
    createReceiver({ keys: 'k' })
      .on('unknown', (event) => {
        expectTypeOf(event).toEqualTypeOf<UnknownEvent>()
        expectTypeOf(event.type).toBeString()
      })
      .on('*', (event) => {
        expectTypeOf(event).toEqualTypeOf<WebhookEvent>()
        if (isKnownEvent(event)) expectTypeOf(event).toEqualTypeOf<KnownEvent>()
        // The catch-all's union narrows on `event` like any other.
        if (event.event === 'click') expectTypeOf(event).toEqualTypeOf<ClickEvent>()
        if (event.event === 'unknown')
          expectTypeOf(event.raw).toEqualTypeOf<Readonly<Record<string, unknown>>>()
        if (event.event === 'invalid') expectTypeOf(event).toEqualTypeOf<InvalidEvent>()
      })
  })

  it('invalid handlers get the raw event and its issues', () => {
    createReceiver({ keys: 'k' }).on('invalid', (event) => {
      expectTypeOf(event).toEqualTypeOf<InvalidEvent>()
      expectTypeOf(event.raw).toBeUnknown()
      expectTypeOf(event.type).toEqualTypeOf<string | undefined>()
      expectTypeOf(event.issues[0]!.path).toEqualTypeOf<readonly (string | number)[]>()
      // @ts-expect-error an invalid event has no validated fields
      void event.msg
    })
    createWorker(
      'q',
      { invalid: (event) => expectTypeOf(event).toEqualTypeOf<InvalidEvent>() },
      {
        connection: {},
      },
    )
  })

  it('onError gets one error type, with a code to switch on', () => {
    createReceiver({
      keys: 'k',
      onError: (error) => {
        expectTypeOf(error).toEqualTypeOf<WebhookError>()
        expectTypeOf(error.code).toEqualTypeOf<WebhookErrorCode>()
        expectTypeOf(error.index).toEqualTypeOf<number | undefined>()
        // @ts-expect-error not a code
        if (error.code === 'INVALID') return
      },
    })
  })

  it('the union narrows on event', () => {
    const handle = (event: KnownEvent) => {
      if (event.event === 'open') expectTypeOf(event.msg.opens[0]!.openIp).toBeString()
    }
    expectTypeOf(handle).parameter(0).toEqualTypeOf<KnownEvent>()
  })

  it('rejects misspelt fields at every level, and reaches extra fields as unknown', () => {
    createReceiver({ keys: 'k' })
      .on('hard_bounce', (e) => {
        // @ts-expect-error bounceCode is not a field (bounceCodeTrad, bounceCodeEnh)
        void e.msg.bounceCode
        // @ts-expect-error smtpName is not a field (smtp_name)
        void e.smtpName
        expectTypeOf(e.msg.bounceCodeTrad).toBeNumber()
        expectTypeOf(extraField(e, 'user_id')).toBeUnknown()
      })
      .on('click', (e) => {
        // @ts-expect-error clickURL is not a field (clickUrl)
        void e.msg.clicks[0]?.clickURL
        expectTypeOf(extraField(e.msg.clicks[0] ?? {}, 'clickReferrer')).toBeUnknown()
      })
      .on('open', (e) => {
        // @ts-expect-error opnIp is not a field (openIp)
        void e.msg.opens[0]?.opnIp
      })
      .on(['send', 'delivered'], (e) => {
        // @ts-expect-error msg of send/delivered has no fields
        void e.msg.anything
      })
  })

  it('rejects a misspelt type', () => {
    // @ts-expect-error 'clik' is not an event type
    createReceiver({ keys: 'k' }).on('clik', () => {})
    // @ts-expect-error a handler map key must be an event type
    const map: HandlerMap<unknown> = { bounce: () => {} }
    void map
  })
})

describe('framework context reaches handlers', () => {
  it('Express: { req, res }', () => {
    createExpressMiddleware({ keys: 'k' }).on('send', (_event, context) => {
      expectTypeOf(context).toEqualTypeOf<ExpressContext>()
    })
  })

  it('Koa: ctx', () => {
    createKoaMiddleware({
      keys: 'k',
      on: { delivered: (_e, ctx) => expectTypeOf(ctx).toEqualTypeOf<KoaContext>() },
    })
  })

  it('Hono: a c typed by the app Env', () => {
    type E = { Variables: { tenant: string } }
    createHonoHandler<E>({ keys: 'k' }).on('open', (_event, c) => {
      expectTypeOf(c).toEqualTypeOf<HonoContext<E>>()
      expectTypeOf(c.get('tenant')).toBeString()
    })
  })

  it('fetch: request and args', () => {
    createFetchHandler({ keys: 'k' }).on('send', (_event, context) => {
      expectTypeOf(context).toEqualTypeOf<FetchContext>()
    })
  })
})

describe('queue workers narrow like in-process handlers', () => {
  it('per type, several types, and the job in context', () => {
    createWorker(
      'q',
      {
        click: (event, context) => {
          expectTypeOf(event).toEqualTypeOf<ClickEvent>()
          expectTypeOf(context).toEqualTypeOf<WorkerContext>()
          expectTypeOf(context.job.id).toEqualTypeOf<string | undefined>()
        },
        hard_bounce: (event) => expectTypeOf(event).toEqualTypeOf<HardBounceEvent>(),
        spam: (event) =>
          expectTypeOf(event.msg.feedback.feedbackType).toEqualTypeOf<string | undefined>(),
        '*': (event) => expectTypeOf(event).toEqualTypeOf<WebhookEvent>(),
        // @ts-expect-error not an event type
        clik: () => {},
      },
      { connection: {} },
    )
  })
})

describe('the emulator', () => {
  it('triggers only the seven event names, and its events narrow on type', () => {
    const trigger = (null as unknown as Emulator).trigger
    type Input = Parameters<typeof trigger>[0]
    expectTypeOf<Input['events']>().toEqualTypeOf<EventName[] | undefined>()
    // @ts-expect-error a misspelt event type does not compile
    void trigger({ events: ['bounce'] })
    const on = (null as unknown as Emulator).on
    on((event) => {
      if (event.type === 'attempt')
        expectTypeOf(event.attempt.status).toEqualTypeOf<number | null>()
      // @ts-expect-error only attempts carry an attempt
      if (event.type === 'delivery') void event.attempt
    })
  })
})

describe('sendclean-webhooks/testing', () => {
  it('types sampleEvent by its event type, and its overrides by that type', () => {
    expectTypeOf(sampleEvent('click')).toEqualTypeOf<WireEvent<'click'>>()
    expectTypeOf(sampleEvent('click').msg.clicks[0]?.clickUrl).toEqualTypeOf<string | undefined>()
    // @ts-expect-error: not an event type
    sampleEvent('clik')
    // @ts-expect-error: `_id` is a string
    sampleEvent('send', { _id: 1 })
    // @ts-expect-error: a hard bounce's msg has no clicks
    sampleEvent('hard_bounce', { msg: { clicks: [] } })
  })
})

describe('adapters take a receiver', () => {
  it("of their own context, or of `unknown` (shared between frameworks), not another's", () => {
    const shared = createReceiver({ keys: 'k' })
    const forExpress = createReceiver<ExpressContext>({ keys: 'k' })
    const forKoa = createReceiver<KoaContext>({ keys: 'k' })
    createExpressMiddleware(shared)
    createExpressMiddleware(forExpress)
    createKoaMiddleware(shared, { path: '/hook' })
    createKoaMiddleware(forKoa)
    createHonoHandler(shared)
    createFetchHandler(shared)
    // @ts-expect-error: its handlers expect Koa's context
    createExpressMiddleware(forKoa)
    // @ts-expect-error: the path goes in the second argument with a receiver
    createKoaMiddleware(shared, { keys: 'k' })
  })
})
