// Express 4 installed as `express4`; its API is close enough to 5's types for these tests.
declare module 'express4' {
  import express from 'express'
  export default express
}
