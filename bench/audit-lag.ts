/**
 * The audit trail after the load, a check rather than the sealing lag (that is sampled during the
 * load: bench/sealing-sampler.ts): polls GET /admin/audit/verify until it reports no unsealed
 * rows, and says how many rows the first call found unsealed, how long until none was and
 * whether the chain verified. It says nothing of the sealer: verify seals what it can itself
 * before it checks, and the time includes the verify calls, which walk the whole chain. Servers
 * without the `pending_rows` field (audit rows chained on insert) give "n/a".
 */

export async function auditAfterLoad(
  url: string,
  token: string,
  timeoutMs = 120_000,
): Promise<string> {
  const started = Date.now();
  let atEnd: number | undefined;
  for (;;) {
    const response = await fetch(`${url}/api/v1/admin/audit/verify`, {
      headers: { authorization: `Bearer ${token}` },
    });
    if (!response.ok) return `n/a (verify answered ${response.status})`;
    const body = (await response.json()) as { pending_rows?: unknown; ok?: unknown };
    if (typeof body.pending_rows !== 'number') return 'n/a';
    atEnd ??= body.pending_rows;
    const seconds = ((Date.now() - started) / 1000).toFixed(2);
    const chain = body.ok === true ? 'chain verified' : 'CHAIN NOT VERIFIED';
    if (body.pending_rows === 0) {
      return atEnd === 0
        ? `no rows unsealed at the first check, ${seconds} s after the load (${chain})`
        : `${seconds} s (${atEnd} rows unsealed at the first check; ${chain})`;
    }
    if (Date.now() - started > timeoutMs) {
      return `over ${seconds} s (${body.pending_rows} of ${atEnd} rows still unsealed)`;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
