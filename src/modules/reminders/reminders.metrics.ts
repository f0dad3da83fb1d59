/**
 * Reminder counters of this process since it started, for a metrics endpoint to read
 * (`reminderTotals()`); each instance counts its own sends. Plain numbers, no metrics library:
 * whoever exports them chooses the format.
 */
export interface ReminderTotals {
  /** Emails the SMTP relay accepted and whose send was recorded. */
  sent: number;
  /** Send attempts that failed (each one is retried later until the last). */
  attemptFailures: number;
  /** Reminders given up after the last attempt. */
  failed: number;
  /** Reminders not sent because the appointment changed, started or the patient opted out. */
  dropped: number;
  /**
   * Sends accepted by the relay whose record came too late: the claim's lease had run out and
   * another instance had claimed the reminder (a possible duplicate). Expected to stay 0.
   */
  leaseLost: number;
  /** Largest gap seen between the relay's acceptance and the commit of 'sent', in ms. */
  maxCommitGapMs: number;
}

const totals: ReminderTotals = {
  sent: 0,
  attemptFailures: 0,
  failed: 0,
  dropped: 0,
  leaseLost: 0,
  maxCommitGapMs: 0,
};

export function reminderTotals(): Readonly<ReminderTotals> {
  return { ...totals };
}

/** Only this module counts. */
export function countReminder(what: Exclude<keyof ReminderTotals, 'maxCommitGapMs'>, by = 1): void {
  totals[what] += by;
}

export function recordCommitGap(ms: number): void {
  if (ms > totals.maxCommitGapMs) totals.maxCommitGapMs = ms;
}
