/**
 * A spam complaint's ARF report (RFC 5965 §3.1), split into fields. The named fields are the
 * ones SendClean's reports carry; every header, including repeated ones, is kept in `headers`.
 */
export interface FeedbackReport {
  feedbackType?: string
  userAgent?: string
  version?: string
  arrivalDate?: string
  originalRcptTo?: string
  originalMailFrom?: string
  reportedDomain?: string
  reportedUri?: string
  sourceIp?: string
  abuseType?: string
  incidents?: string
  /** Every header in order, as `[name, value]`, names as written. */
  headers: Array<[name: string, value: string]>
}

const NAMED: Record<string, keyof Omit<FeedbackReport, 'headers'>> = {
  'feedback-type': 'feedbackType',
  'user-agent': 'userAgent',
  version: 'version',
  'arrival-date': 'arrivalDate',
  'original-rcpt-to': 'originalRcptTo',
  'original-mail-from': 'originalMailFrom',
  'reported-domain': 'reportedDomain',
  'reported-uri': 'reportedUri',
  'source-ip': 'sourceIp',
  'abuse-type': 'abuseType',
  incidents: 'incidents',
}

/**
 * Parse an ARF header block (CRLF or LF line ends; folded continuation lines are unfolded).
 *
 * @example
 * parseFeedbackReport('Feedback-Type: abuse\r\nSource-Ip: 192.0.2.1\r\n').sourceIp // '192.0.2.1'
 */
export function parseFeedbackReport(text: string): FeedbackReport {
  const report: FeedbackReport = { headers: [] }
  for (const line of text.split(/\r?\n/)) {
    const last = report.headers[report.headers.length - 1]
    if (/^[ \t]/.test(line) && last) {
      last[1] = `${last[1]} ${line.trim()}`
      continue
    }
    const colon = line.indexOf(':')
    if (colon <= 0) continue
    report.headers.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()])
  }
  for (const [name, value] of report.headers) {
    const key = NAMED[name.toLowerCase()]
    // The first occurrence wins; repeats (several Reported-Uri lines) stay in `headers`.
    if (key && report[key] === undefined) report[key] = value
  }
  return report
}
