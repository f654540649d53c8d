import { ParsedBody } from './read-body.js'
import type { Receiver } from './receiver.js'
import type { WebhookRequest, WebhookResponse } from './types.js'

/** A Web `Request` as the core's request. A body already read (`bodyUsed`) is reported as consumed. */
export function fromWebRequest<C>(request: Request, context: C): WebhookRequest<C> {
  return {
    method: request.method,
    url: request.url,
    headers: request.headers,
    body: request.bodyUsed
      ? new ParsedBody(
          undefined,
          'do not read the request body before the receiver, or pass a clone',
        )
      : request.body,
    context,
  }
}

/** The core's answer as a Web `Response`. */
export function toWebResponse(response: WebhookResponse): Response {
  return new Response(response.body === '' ? null : response.body, {
    status: response.status,
    headers: response.headers,
  })
}

/** Handle a Web `Request` end to end. */
export async function handleWebRequest<C>(
  receiver: Receiver<C>,
  request: Request,
  context: C,
): Promise<Response> {
  return toWebResponse(await receiver.handle(fromWebRequest(request, context)))
}
