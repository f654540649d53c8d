// The lowest releases of the declared peer ranges, installed under aliases; their APIs are close
// enough to the current releases' types for these tests.
declare module 'koa2' {
  import Koa from 'koa'
  export default Koa
}
declare module 'bullmq5' {
  export * from 'bullmq'
}
declare module 'hono-4.0' {
  export * from 'hono'
}
