export interface ReadmeBlock {
  /** The heading the block stands under. */
  heading: string
  code: string
}
export function readmeBlocks(markdown: string): ReadmeBlock[]
