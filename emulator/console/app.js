// The emulator's web console: plain DOM, no build step. Everything shown comes from the
// emulator's JSON endpoints and its server-sent events (/emulator/stream). Text from webhooks
// and receivers is only ever set as text, never parsed as HTML.
// @ts-check

/** @typedef {{ webhook_id: string, url: string, event: string, description: string, store_log: 'Enable' | 'Disable', key: string, create_date: number, last_success: number | null, total_event: number }} Webhook */
/** @typedef {{ n: number, time: string, status: number | null, ms: number, error?: string, answer: string }} Attempt */
/** @typedef {{ id: string, webhookId: string, url: string, time: string, types: string[], state: 'pending' | 'ok' | 'failed', maxAttempts: number, attempts: Attempt[], request: { method: string, url: string, headers: Record<string, string>, body: string }, events: unknown[] }} Delivery */

/** @type {{ webhooks: Webhook[], deliveries: Map<string, Delivery>, selected: string | undefined, types: string[] }} */
const state = { webhooks: [], deliveries: new Map(), selected: undefined, types: [] }

/**
 * An element with attributes (`on…` functions become listeners) and children (strings are text).
 * @param {string} tag
 * @param {Record<string, unknown>} [attrs]
 * @param {Array<Node | string | false | undefined>} children
 * @returns {HTMLElement}
 */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag)
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue
    if (name.startsWith('on') && typeof value === 'function')
      el.addEventListener(name.slice(2), /** @type {EventListener} */ (value))
    else if (value === true) el.setAttribute(name, '')
    else el.setAttribute(name, String(value))
  }
  for (const child of children) if (child !== false && child !== undefined) el.append(child)
  return el
}

/** @param {string} id */
const byId = (id) => /** @type {HTMLElement} */ (document.getElementById(id))

/**
 * JSON from the emulator; throws its `error` message on a non-2xx answer.
 * @param {string} path
 * @param {RequestInit} [init]
 */
async function api(path, init) {
  let res
  try {
    res = await fetch(path, {
      ...init,
      headers: init?.body ? { 'content-type': 'application/json' } : undefined,
    })
  } catch {
    throw new Error(
      'The emulator is not answering: it was stopped, or restarted on another port. Start it again, then reload this page.',
    )
  }
  const body = await res.json().catch(() => ({}))
  if (!res.ok) throw new Error(body.error ?? `${res.status} ${res.statusText}`)
  return body
}

/** @param {number | null} seconds */
const when = (seconds) => (seconds ? new Date(seconds * 1000).toLocaleString() : 'never')

/** @param {string[]} types */
function summarize(types) {
  /** @type {Map<string, number>} */
  const counts = new Map()
  for (const type of types) counts.set(type, (counts.get(type) ?? 0) + 1)
  return [...counts].map(([type, n]) => (n > 1 ? `${type} ×${n}` : type)).join(', ')
}

/** @param {Attempt} a */
const attemptText = (a) => `${a.status ?? a.error ?? 'no answer'} in ${a.ms} ms`

/** @param {Attempt} a */
const attemptClass = (a) => (a.status !== null && a.status >= 200 && a.status < 300 ? 'ok' : 'bad')

/** @param {string} text */
async function copy(text) {
  try {
    await navigator.clipboard.writeText(text)
    return true
  } catch {
    return false // no clipboard (plain http on another host): the key stays selectable
  }
}

/**
 * The checkboxes of the subscribable event types.
 * @param {string} name
 * @param {string[]} checked
 */
function eventBoxes(name, checked) {
  return state.types.map((type) =>
    h(
      'label',
      {},
      h('input', { type: 'checkbox', name, value: type, checked: checked.includes(type) }),
      type,
    ),
  )
}

/** @param {HTMLFormElement} form @param {string} name */
const checkedValues = (form, name) =>
  [...form.querySelectorAll(`input[name="${name}"]:checked`)].map(
    (el) => /** @type {HTMLInputElement} */ (el).value,
  )

/**
 * The webhook fields of an add or edit form, as the emulator takes them.
 * @param {HTMLFormElement} form
 */
function webhookFields(form) {
  const data = new FormData(form)
  return JSON.stringify({
    url: data.get('url'),
    description: data.get('description'),
    event: checkedValues(form, 'event').join(','),
    store_log: data.get('store_log') ? 'Enable' : 'Disable',
  })
}

/** @param {Webhook} webhook */
function webhookCard(webhook) {
  const error = h('p', { class: 'error', role: 'alert', hidden: true })
  const fail = (/** @type {unknown} */ e) => {
    error.textContent = /** @type {Error} */ (e).message
    error.hidden = false
  }
  const copied = h('span', { class: 'muted', role: 'status' })
  const card = h(
    'article',
    {
      class: 'card',
      'aria-label': `Webhook ${webhook.url}`,
      'aria-current': state.selected === webhook.webhook_id ? 'true' : undefined,
      'data-webhook-id': webhook.webhook_id,
    },
    h('div', { class: 'row' }, h('strong', { class: 'mono' }, webhook.url)),
    webhook.description
      ? h('p', { class: 'muted', style: 'margin:.25rem 0' }, webhook.description)
      : undefined,
    h(
      'dl',
      {},
      h('dt', {}, 'ID'),
      h('dd', { class: 'mono' }, webhook.webhook_id),
      h('dt', {}, 'Events'),
      h('dd', {}, webhook.event || 'all'),
      h('dt', {}, 'Key'),
      h(
        'dd',
        { class: 'row' },
        h('code', { 'data-key': '' }, webhook.key),
        h(
          'button',
          {
            type: 'button',
            'aria-label': `Copy the key of ${webhook.url}`,
            onclick: async () => {
              copied.textContent = (await copy(webhook.key)) ? 'copied' : 'select it to copy'
            },
          },
          'Copy',
        ),
        copied,
      ),
      h('dt', {}, 'Last success'),
      h('dd', {}, when(webhook.last_success)),
      h('dt', {}, 'Events delivered'),
      h('dd', { 'data-total-event': '' }, String(webhook.total_event)),
      h('dt', {}, 'Delivery log'),
      h('dd', {}, webhook.store_log === 'Enable' ? 'kept (store_log)' : 'off'),
    ),
    error,
    h(
      'div',
      { class: 'row' },
      h(
        'button',
        {
          type: 'button',
          onclick: () => {
            state.selected = state.selected === webhook.webhook_id ? undefined : webhook.webhook_id
            renderWebhooks()
            renderDeliveries()
          },
        },
        state.selected === webhook.webhook_id ? 'Show all deliveries' : 'Show its deliveries',
      ),
      h(
        'button',
        {
          type: 'button',
          onclick: () =>
            api(`/emulator/webhooks/${webhook.webhook_id}/reset-key`, { method: 'POST' }).catch(
              fail,
            ),
        },
        'Reset key',
      ),
      h('button', { type: 'button', onclick: () => card.replaceWith(editForm(webhook)) }, 'Edit'),
      h(
        'button',
        {
          type: 'button',
          onclick: () => {
            if (confirm(`Delete the webhook for ${webhook.url}?`))
              api(`/emulator/webhooks/${webhook.webhook_id}`, { method: 'DELETE' }).catch(fail)
          },
        },
        'Delete',
      ),
    ),
  )
  return card
}

/** @param {Webhook} webhook */
function editForm(webhook) {
  const error = h('p', { class: 'error', role: 'alert', hidden: true })
  const id = `edit-${webhook.webhook_id}`
  const form = /** @type {HTMLFormElement} */ (
    h(
      'form',
      {
        class: 'card',
        'aria-label': `Edit webhook ${webhook.url}`,
        onsubmit: async (/** @type {SubmitEvent} */ e) => {
          e.preventDefault()
          try {
            await api(`/emulator/webhooks/${webhook.webhook_id}`, {
              method: 'PATCH',
              body: webhookFields(form),
            })
          } catch (caught) {
            error.textContent = /** @type {Error} */ (caught).message
            error.hidden = false
          }
        },
      },
      h('label', { for: `${id}-url` }, 'URL'),
      h('input', { id: `${id}-url`, name: 'url', type: 'url', required: true, value: webhook.url }),
      h('label', { for: `${id}-description` }, 'Description'),
      h('input', {
        id: `${id}-description`,
        name: 'description',
        type: 'text',
        value: webhook.description,
      }),
      h(
        'fieldset',
        {},
        h('legend', {}, 'Events'),
        ...eventBoxes('event', webhook.event.split(',')),
      ),
      h(
        'label',
        { style: 'display:inline-flex; gap:.3rem' },
        h('input', {
          name: 'store_log',
          type: 'checkbox',
          checked: webhook.store_log === 'Enable',
        }),
        'Keep a delivery log (store_log)',
      ),
      error,
      h(
        'div',
        { class: 'row' },
        h('button', { class: 'primary', type: 'submit' }, 'Save'),
        h('button', { type: 'button', onclick: () => renderWebhooks() }, 'Cancel'),
      ),
    )
  )
  return form
}

/** What a first run shows: how to point an app at this emulator. */
function gettingStarted() {
  const port = location.port === '8025' ? '' : ` --port ${location.port}`
  const command = `npx sendclean-webhooks listen --forward-to http://localhost:3000/webhooks/sendclean${port}`
  return h(
    'div',
    { class: 'card', id: 'getting-started', role: 'region', 'aria-label': 'Getting started' },
    h(
      'h3',
      { style: 'margin:0; font-size:1rem' },
      'No webhooks yet: point your app at this emulator',
    ),
    h(
      'p',
      {},
      "In a terminal, with your app's webhook URL (start the app before or after: deliveries are retried):",
    ),
    h('pre', { 'data-command': '' }, command),
    h(
      'p',
      {},
      'It prints a key that stays the same on every run: put it in your app as SENDCLEAN_WEBHOOK_KEY. Then ',
      h(
        'code',
        { 'data-trigger': '' },
        `npx sendclean-webhooks trigger click${port ? ` --emulator ${location.origin}` : ''}`,
      ),
      ' delivers a click, or send any event from this page. You can also add a webhook below.',
    ),
  )
}

function renderWebhooks() {
  const list = byId('webhooks')
  list.replaceChildren(
    ...(state.webhooks.length ? state.webhooks.map(webhookCard) : [gettingStarted()]),
  )
  const select = /** @type {HTMLSelectElement} */ (byId('compose-webhook'))
  const current = select.value
  select.replaceChildren(
    ...state.webhooks.map((w) =>
      h('option', { value: w.webhook_id }, `${w.url} (${w.webhook_id})`),
    ),
  )
  if (state.webhooks.some((w) => w.webhook_id === current)) select.value = current
  else if (state.selected) select.value = state.selected
  fitType()
}

/** The webhook (and subscription) the composer was last fitted to: a refresh keeps a choice. */
let fittedFor = ''

/**
 * When the composer's webhook or its subscription changes, pick an event type it subscribes
 * to (and a fresh sample).
 */
function fitType() {
  const select = /** @type {HTMLSelectElement} */ (byId('compose-webhook'))
  const webhook = state.webhooks.find((w) => w.webhook_id === select.value)
  if (!webhook || `${webhook.webhook_id} ${webhook.event}` === fittedFor) return
  fittedFor = `${webhook.webhook_id} ${webhook.event}`
  const subscribed = webhook.event.split(',').filter(Boolean)
  if (subscribed.length === 0 || subscribed.includes(composeType.value)) return
  composeType.value = /** @type {string} */ (subscribed[0])
  loadSample().catch(() => {})
}

/** @param {Delivery} delivery */
function deliveryItem(delivery) {
  const last = delivery.attempts.at(-1)
  const badge =
    delivery.state === 'ok'
      ? h('span', { class: 'badge ok' }, `delivered (${last ? attemptText(last) : ''})`)
      : delivery.state === 'failed'
        ? h('span', { class: 'badge bad' }, `failed (${last ? attemptText(last) : 'no attempt'})`)
        : h(
            'span',
            { class: 'badge wait' },
            `sending, attempt ${delivery.attempts.length + 1} of ${delivery.maxAttempts}`,
          )
  const headers = Object.entries(delivery.request.headers)
    .map(([name, value]) => `${name}: ${value}`)
    .join('\n')
  const curlBox = h('pre', { 'data-curl': '', hidden: true })
  const curlStatus = h('span', { class: 'muted', role: 'status' })
  return h(
    'details',
    { class: 'card delivery', 'data-delivery-id': delivery.id, 'data-state': delivery.state },
    h(
      'summary',
      {},
      h('span', { class: 'muted' }, new Date(delivery.time).toLocaleTimeString()),
      ' ',
      h('strong', {}, summarize(delivery.types)),
      ' → ',
      badge,
    ),
    h(
      'ol',
      { class: 'attempts', 'aria-label': 'Attempts' },
      ...delivery.attempts.map((a) =>
        h(
          'li',
          { 'data-status': a.status ?? '' },
          h('span', { class: attemptClass(a) }, attemptText(a)),
          ' ',
          h('span', { class: 'muted' }, new Date(a.time).toLocaleTimeString()),
        ),
      ),
    ),
    h(
      'p',
      { class: 'muted', style: 'margin:.25rem 0' },
      `${delivery.id} to ${delivery.url} (webhook ${delivery.webhookId})`,
    ),
    h('h4', { style: 'margin:.5rem 0 0' }, 'Events'),
    h('pre', {}, JSON.stringify(delivery.events, null, 2)),
    h('h4', { style: 'margin:.5rem 0 0' }, 'Request as sent'),
    h(
      'pre',
      { 'data-raw': '' },
      `POST ${delivery.request.url}\n${headers}\n\n${delivery.request.body}`,
    ),
    h('h4', { style: 'margin:.5rem 0 0' }, 'Its form fields, decoded'),
    h('pre', { 'data-decoded': '' }, decodedFields(delivery.request.body)),
    h('h4', { style: 'margin:.5rem 0 0' }, "The receiver's answer"),
    h(
      'pre',
      { 'data-answer': '' },
      last ? `${last.status ?? last.error ?? ''}\n\n${last.answer}` : '(no answer yet)',
    ),
    h(
      'div',
      { class: 'row' },
      h(
        'button',
        {
          type: 'button',
          'aria-label': `Replay ${delivery.id}`,
          onclick: () =>
            api(`/emulator/deliveries/${delivery.id}/replay`, { method: 'POST', body: '{}' }).catch(
              (e) => alert(e.message),
            ),
        },
        'Replay',
      ),
      h(
        'button',
        {
          type: 'button',
          'aria-label': `Copy ${delivery.id} as curl`,
          onclick: async () => {
            const command = asCurl(delivery)
            curlBox.textContent = command
            curlBox.hidden = false
            curlStatus.textContent = (await copy(command))
              ? 'copied: run it in a terminal to send the same signed request again'
              : 'select the command below to copy it'
          },
        },
        'Copy as curl',
      ),
      curlStatus,
    ),
    curlBox,
  )
}

/**
 * A form body's fields, decoded as the receiver decodes them; JSON values pretty-printed.
 * @param {string} body
 */
function decodedFields(body) {
  try {
    return [...new URLSearchParams(body)]
      .map(([name, value]) => {
        let shown = value
        try {
          shown = JSON.stringify(JSON.parse(value), null, 2)
        } catch {}
        return `${name} =\n${shown}`
      })
      .join('\n\n')
  } catch {
    return '(not a form body)'
  }
}

/** @param {string} text */
const shellQuote = (text) => `'${text.replaceAll("'", `'\\''`)}'`

/**
 * The exact signed request as a curl command (POSIX shell quoting).
 * @param {Delivery} delivery
 */
function asCurl(delivery) {
  const { url, headers, body } = delivery.request
  return [
    `curl -sS -X POST ${shellQuote(url)}`,
    ...Object.entries(headers).map(([name, value]) => `-H ${shellQuote(`${name}: ${value}`)}`),
    `--data-raw ${shellQuote(body)}`,
  ].join(' \\\n  ')
}

function renderDeliveries() {
  const box = byId('deliveries')
  const open = new Set(
    [...box.querySelectorAll('details[open]')].map((d) => d.getAttribute('data-delivery-id')),
  )
  const list = [...state.deliveries.values()]
    .filter((d) => !state.selected || d.webhookId === state.selected)
    .reverse()
  byId('deliveries-scope').textContent = state.selected
    ? `(webhook ${state.selected})`
    : '(all webhooks)'
  box.replaceChildren(
    ...(list.length
      ? list.map((d) => {
          const item = deliveryItem(d)
          if (open.has(d.id)) item.setAttribute('open', '')
          return item
        })
      : [h('p', { class: 'muted' }, 'No deliveries yet.')]),
  )
}

async function loadWebhooks() {
  state.webhooks = (await api('/emulator/webhooks')).webhooks
  if (state.selected && !state.webhooks.some((w) => w.webhook_id === state.selected))
    state.selected = undefined
  renderWebhooks()
}

async function loadDeliveries() {
  /** @type {Delivery[]} */
  const list = (await api('/emulator/deliveries')).deliveries
  state.deliveries = new Map(list.map((d) => [d.id, d]))
  renderDeliveries()
}

// --- The composer -------------------------------------------------------------------------

const composeJson = /** @type {HTMLTextAreaElement} */ (byId('compose-json'))
const composeType = /** @type {HTMLSelectElement} */ (byId('compose-type'))
const composeStatus = byId('compose-status')

// Answers can arrive out of order (a type picked while the last sample loads): only the
// latest request's answer is shown.
let sampleRequest = 0
let validateRequest = 0

async function loadSample() {
  const mine = ++sampleRequest
  const { event } = await api(`/emulator/samples/${composeType.value}`)
  if (mine !== sampleRequest) return
  composeJson.value = JSON.stringify(event, null, 2)
  await validate()
}

/**
 * Check the event against the receiver's own schema; returns it when valid. Only the latest
 * check writes the status line.
 */
async function validate() {
  const mine = ++validateRequest
  let event
  try {
    event = JSON.parse(composeJson.value)
  } catch (error) {
    composeStatus.className = 'bad'
    composeStatus.textContent = `Not valid JSON: ${/** @type {Error} */ (error).message}`
    return undefined
  }
  const { valid, issues } = await api('/emulator/validate', {
    method: 'POST',
    body: JSON.stringify({ event }),
  })
  if (mine === validateRequest) {
    composeStatus.className = valid ? 'ok' : 'bad'
    composeStatus.textContent = valid
      ? `Valid ${event.event} event.`
      : `Not a valid event: ${issues.map((/** @type {{path: unknown[], message: string}} */ i) => `${i.path.join('.') || '(event)'}: ${i.message}`).join('; ')}`
  }
  return valid ? event : undefined
}

let validating = 0
composeJson.addEventListener('input', () => {
  clearTimeout(validating)
  validating = window.setTimeout(() => validate().catch(() => {}), 250)
})
composeType.addEventListener('change', () => loadSample().catch(() => {}))
byId('compose-webhook').addEventListener('change', fitType)
byId('compose-sample').addEventListener('click', () => loadSample().catch(() => {}))
byId('compose').addEventListener('submit', async (e) => {
  e.preventDefault()
  const webhookId = /** @type {HTMLSelectElement} */ (byId('compose-webhook')).value
  if (!webhookId) {
    composeStatus.className = 'bad'
    composeStatus.textContent = 'Add a webhook first.'
    return
  }
  try {
    const event = await validate()
    if (!event) return
    const { deliveries } = await api('/emulator/trigger', {
      method: 'POST',
      body: JSON.stringify({ webhookId, payload: [event] }),
    })
    composeStatus.className = deliveries.length ? 'ok' : 'bad'
    composeStatus.textContent = deliveries.length
      ? `Sent as ${deliveries.map((/** @type {{id: string}} */ d) => d.id).join(', ')}.`
      : `This webhook does not subscribe to ${event.event}.`
  } catch (error) {
    composeStatus.className = 'bad'
    composeStatus.textContent = /** @type {Error} */ (error).message
  }
})

// --- Adding a webhook ---------------------------------------------------------------------

const addForm = /** @type {HTMLFormElement} */ (byId('add-form'))
addForm.addEventListener('submit', async (e) => {
  e.preventDefault()
  const error = byId('add-error')
  error.hidden = true
  const button = /** @type {HTMLButtonElement} */ (addForm.querySelector('button[type=submit]'))
  button.disabled = true
  try {
    await api('/emulator/webhooks', { method: 'POST', body: webhookFields(addForm) })
    addForm.reset()
    byId('add-events').replaceChildren(...eventBoxes('event', defaultEvents()))
  } catch (caught) {
    error.textContent = /** @type {Error} */ (caught).message
    error.hidden = false
  } finally {
    button.disabled = false
  }
})

/** SendClean's default subscription: every type but `delivered` (it follows `send`). */
const defaultEvents = () => state.types.filter((t) => t !== 'delivered')

// --- Live updates -------------------------------------------------------------------------

function connect() {
  const connection = byId('connection')
  const stream = new EventSource('/emulator/stream')
  stream.addEventListener('hello', () => {
    connection.textContent = 'live'
    connection.className = 'ok'
    // After a reconnect too: whatever happened in between is in the lists.
    loadWebhooks().catch(() => {})
    loadDeliveries().catch(() => {})
  })
  stream.addEventListener('webhooks', () => loadWebhooks().catch(() => {}))
  for (const type of ['delivery', 'attempt']) {
    stream.addEventListener(type, (message) => {
      const { delivery, attempt } = JSON.parse(/** @type {MessageEvent} */ (message).data)
      state.deliveries.set(delivery.id, delivery)
      renderDeliveries()
      // One short announcement per attempt, rather than the whole list re-read.
      if (attempt) {
        byId('deliveries-status').textContent =
          `${delivery.id} (${summarize(delivery.types)}): attempt ${attempt.n} of ${delivery.maxAttempts}, ${attemptText(attempt)}`
      }
    })
  }
  stream.addEventListener('error', () => {
    connection.textContent = 'reconnecting…'
    connection.className = 'wait'
  })
}

async function start() {
  state.types = (await api('/emulator/event-types')).types
  composeType.replaceChildren(...state.types.map((t) => h('option', { value: t }, t)))
  byId('add-events').replaceChildren(...eventBoxes('event', defaultEvents()))
  await loadSample()
  connect()
}

start().catch((error) => {
  byId('connection').textContent = `could not load: ${error.message}`
})
